"""Settings shared by every environment; every difference is an environment variable."""

from pathlib import Path

import dj_database_url

from config.settings.env import (
    env,
    env_bool,
    env_int,
    env_list,
    env_nonnegative_float,
    env_positive_float,
)

BASE_DIR = Path(__file__).resolve().parent.parent.parent


SECRET_KEY = env("DJANGO_SECRET_KEY", "insecure-dev-only-key")
DEBUG = False
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",
    "riders",
    "agencies",
    "outbox",
    "idempotency",
    "fleet",
    "wallets",
    "rentals",
    "inbox",
    "gbfs",
    "reservations",
    "problems",
    "alerts",
    "zones",
    "vehicle_events",
    "mds",
    "stats",
]

MIDDLEWARE = [
    "core.middleware.RequestIdMiddleware",
    "core.probes.ProbeMiddleware",
    "reservations.middleware.ExpireDueReservationsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.common.CommonMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

# Persistent connections, health-checked before each request's first query by polling the idle socket
# (core.postgresql: no `SELECT 1` round trip per request, measured in BENCHMARKS.md), so a connection
# the server closed (restart, failover) is replaced instead of failing a request.
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", "postgres://rentals:rentals@127.0.0.1:5433/rentals"),
        conn_max_age=60,
        conn_health_checks=True,
    )
}
DATABASES["default"]["ENGINE"] = "core.postgresql"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env("RENTALS_STATIC_ROOT") or env("STATIC_ROOT") or str(BASE_DIR / "staticfiles"))
# Serve straight from the app finders (drf-spectacular-sidecar assets) so no collectstatic step is needed.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = False

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["core.authentication.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "core.exception_handlers.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "core.schema.ProblemAutoSchema",
    "UNAUTHENTICATED_USER": None,
    "UNAUTHENTICATED_TOKEN": None,
    "DEFAULT_VERSIONING_CLASS": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Velo rentals API",
    "DESCRIPTION": "Fleet, rentals, wallets. Errors are RFC 9457 application/problem+json.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "BikeStatusEnum": "fleet.models.BikeStatus",
        "RentalStatusEnum": "rentals.models.RentalStatus",
        "ReservationStatusEnum": "reservations.models.ReservationStatus",
        "AdminSettableBikeStatusEnum": ["available", "maintenance"],
        "BikeConditionEnum": "fleet.models.BikeCondition",
        "ConditionSourceEnum": "fleet.models.ConditionSource",
        "ProblemCategoryEnum": "problems.models.ProblemCategory",
        "ProblemStatusEnum": "problems.models.ProblemStatus",
        "ProblemResolutionEnum": ["resolved", "rejected"],
        "AlertTypeEnum": "alerts.models.AlertType",
    },
    "SWAGGER_UI_SETTINGS": {
        "urls": [
            {"url": "/api/schema", "name": "rentals"},
            {"url": "/api/auth/schema", "name": "auth"},
            {"url": "/api/notifications/schema", "name": "notifications"},
        ],
        "persistAuthorization": True,
    },
}

# --- JWT verification (public keys only) ---
JWT_PUBLIC_KEYS_DIR = env("JWT_PUBLIC_KEYS_DIR") or env("JWT_KEYS_DIR")
JWT_ISSUER = env("JWT_ISSUER", "velo-auth")
JWT_AUDIENCE = env("JWT_AUDIENCE", "velo")
JWT_LEEWAY_SECONDS = env_int("JWT_LEEWAY_SECONDS", 5)
# core/authentication.py (the same file as the notifier's) refuses the tokens of riders deactivated here.
JWT_DEACTIVATED_CHECK = "riders.selectors.rider_is_deactivated"

# --- Messaging ---
AMQP_URL = env("AMQP_URL", "amqp://guest:guest@127.0.0.1:5673/%2F")
# The broker user each producer publishes as. RabbitMQ checks a message's user_id property against the
# publishing connection's user; the inbox dead-letters an event whose user_id is not its producer's.
# "producer=user" pairs over the defaults (the local stack's users); a single-user deployment names its
# one user for every producer.
AMQP_PRODUCER_USERS = {"auth": "auth", "rentals": "rentals", "billing": "billing"} | {
    producer.strip(): user.strip()
    for producer, _, user in (item.partition("=") for item in env_list("AMQP_PRODUCER_USERS"))
}
# The outbox (outbox/, the same files in auth and rentals): this service's name in envelopes and as AMQP
# app_id, the exchange its events go to, the events that must reach a queue (a broker return retries them
# later), and the relay's batch, fallback poll and linger after a NOTIFY (one pass for a busy moment).
EVENT_PRODUCER = "rentals"
OUTBOX_EXCHANGE = "rentals.events"
OUTBOX_MANDATORY_EVENTS = frozenset({"rental.finished"})
OUTBOX_RELAY_BATCH_SIZE = env_int("OUTBOX_RELAY_BATCH_SIZE", 100)
OUTBOX_RELAY_POLL_SECONDS = float(env("OUTBOX_RELAY_POLL_SECONDS", "0.5"))
OUTBOX_RELAY_COALESCE_SECONDS = float(env("OUTBOX_RELAY_COALESCE_SECONDS", "0.05"))
# Check every emitted event against its JSON Schema in contracts/ before writing it (on here, in dev and
# tests; production.py turns it off: the unit tests emit every event type through the real services
# and validate it, and the check cost ~0.5 ms of CPU per rent or finish).
OUTBOX_VALIDATE_ON_EMIT = env_bool("OUTBOX_VALIDATE_ON_EMIT", True)
# Event contracts are read by core/contracts.py (from the same variable); this is for the MDS description.
CONTRACTS_DIR = Path(env("CONTRACTS_DIR", str(BASE_DIR.parent.parent / "contracts")))
# MDS Provider API (`/mds/`): this operator's provider id (agencies' tokens carry it as `provider_id`) and
# how long after its end an hour with unbilled trips is held back (202) before it is served anyway.
MDS_PROVIDER_ID = env("MDS_PROVIDER_ID", "9ee69a69-91ba-5999-949d-a1a03f9c4c3b")
MDS_HOUR_CLOSE_SECONDS = float(env("MDS_HOUR_CLOSE_SECONDS", "900"))
# Rate limit per agency client (the token's `sub`, so all of a client's tokens share it), counted in the
# database by every web process: requests per second and how many more a burst may have; 0 = no limit.
MDS_RATE_PER_SECOND = float(env("MDS_RATE_PER_SECOND", "10"))
MDS_RATE_BURST = env_int("MDS_RATE_BURST", 50)
# The official MDS 2.0 OpenAPI description (an unmodified copy), which the MDS endpoints are tested against.
MDS_OPENAPI_DIR = Path(env("MDS_OPENAPI_DIR", str(CONTRACTS_DIR / "mds-openapi")))

# --- Money, payments, invoices ---
DEFAULT_CURRENCY = env("DEFAULT_CURRENCY", "EUR")
PAYMENTS_WEBHOOK_SECRET = env("PAYMENTS_WEBHOOK_SECRET")
AWS_ENDPOINT_URL_S3 = env("AWS_ENDPOINT_URL_S3")
AWS_S3_PUBLIC_ENDPOINT_URL = env("AWS_S3_PUBLIC_ENDPOINT_URL")
AWS_ACCESS_KEY_ID = env("AWS_ACCESS_KEY_ID")
AWS_SECRET_ACCESS_KEY = env("AWS_SECRET_ACCESS_KEY")
AWS_DEFAULT_REGION = env("AWS_DEFAULT_REGION", "us-east-1")
INVOICES_BUCKET = env("INVOICES_BUCKET", "invoices")
INVOICE_URL_TTL_SECONDS = env_int("INVOICE_URL_TTL_SECONDS", 300)

PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", "http://127.0.0.1:8080")


# Fractional minutes are allowed (e.g. 0.05 = 3 s) so a test stack can watch real expiry quickly.
RESERVATION_MINUTES = env_positive_float("RESERVATION_MINUTES", 10)
RESERVATION_SWEEP_SECONDS = env_positive_float("RESERVATION_SWEEP_SECONDS", 15)
RESERVATION_SWEEP_BATCH_SIZE = env_int("RESERVATION_SWEEP_BATCH_SIZE", 200)
# Open problem reports from different riders that take a bike out of service (`needs_check`).
PROBLEM_REPORTS_TO_CHECK = max(env_int("PROBLEM_REPORTS_TO_CHECK", 2), 1)
# Positions a zone's MultiPolygon may have in all (400 beyond).
ZONE_MAX_VERTICES = max(env_int("ZONE_MAX_VERTICES", 2000), 4)
# Reads check a rider's deactivation against a per-process copy at most this old (writes always ask the
# database); 0 turns the copy off.
RIDER_STATUS_CACHE_SECONDS = env_nonnegative_float("RIDER_STATUS_CACHE_SECONDS", 5)
# Bike-list pages are answered from a web process's memory for at most this long (fleet/page_cache.py): the
# freshness rule for other riders' changes (README, "Freshness of bike lists"); 0 turns the page cache off.
BIKE_LIST_MAX_AGE_SECONDS = env_nonnegative_float("BIKE_LIST_MAX_AGE_SECONDS", 0.5)
# The setting's former name (it bounded a page's age when pages were dropped per change): still honoured,
# 0 turns the cache off and a value below BIKE_LIST_MAX_AGE_SECONDS lowers the age.
BIKE_LIST_CACHE_SECONDS = env_nonnegative_float("BIKE_LIST_CACHE_SECONDS", 30)

# Retention, pruned in batches by the outbox relay (every RETENTION_PRUNE_INTERVAL_SECONDS) and by
# `manage.py prune_outbox` / `prune_idempotency`: published outbox rows (unpublished ones are never
# deleted) and Idempotency-Key records, whose age is the documented replay window.
OUTBOX_RETENTION_HOURS = env_positive_float("OUTBOX_RETENTION_HOURS", 168)
IDEMPOTENCY_RETENTION_HOURS = env_positive_float("IDEMPOTENCY_RETENTION_HOURS", 24)
RETENTION_PRUNE_INTERVAL_SECONDS = env_positive_float("RETENTION_PRUNE_INTERVAL_SECONDS", 300)
RETENTION_PRUNE_BATCH_SIZE = env_int("RETENTION_PRUNE_BATCH_SIZE", 1000)
# What else the outbox relay prunes: name -> (a service `prune(*, older_than, batch_size) -> int`, the
# setting holding its retention in hours).
OUTBOX_RELAY_EXTRA_PRUNERS = {
    "idempotency_records": ("idempotency.services.idempotency_records_prune", "IDEMPOTENCY_RETENTION_HOURS")
}

LOG_LEVEL = (env("LOG_LEVEL", "INFO") or "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.logging.RequestIdFilter"}},
    "formatters": {"json": {"()": "core.logging.JsonFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
        "pika": {"level": "WARNING"},
        "botocore": {"level": "WARNING"},
    },
}
