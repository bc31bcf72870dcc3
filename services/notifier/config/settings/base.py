"""Settings shared by every environment; every difference is an environment variable."""

from pathlib import Path

import dj_database_url

from config.settings.env import env, env_int, env_list, env_nonnegative_float

BASE_DIR = Path(__file__).resolve().parent.parent.parent


SECRET_KEY = env("DJANGO_SECRET_KEY", "insecure-dev-only-key")
DEBUG = False
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "rest_framework",
    "drf_spectacular",
    "core",
    "riders",
    "notifications",
]

MIDDLEWARE = [
    "core.middleware.RequestIdMiddleware",
    "core.probes.ProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {},
    }
]

# Persistent connections, health-checked by polling the idle socket (core.postgresql, the same backend as
# auth's and rentals'): a connection the server closed is replaced instead of failing a request.
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", "postgres://notifier:notifier@127.0.0.1:5433/notifier"),
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

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["core.authentication.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "core.exception_handlers.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    "UNAUTHENTICATED_TOKEN": None,
    "DEFAULT_VERSIONING_CLASS": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Velo notifications API",
    "DESCRIPTION": "Telegram linking, the bot webhook, notification preferences. Errors are RFC 9457 "
    "application/problem+json.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    "SECURITY": [{"bearerAuth": []}],
    "APPEND_COMPONENTS": {
        "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
    },
}

# --- JWT verification (public keys only) ---
JWT_PUBLIC_KEYS_DIR = env("JWT_PUBLIC_KEYS_DIR") or env("JWT_KEYS_DIR")
JWT_ISSUER = env("JWT_ISSUER", "velo-auth")
JWT_AUDIENCE = env("JWT_AUDIENCE", "velo")
JWT_LEEWAY_SECONDS = env_int("JWT_LEEWAY_SECONDS", 5)

# --- Messaging ---
AMQP_URL = env("AMQP_URL", "amqp://guest:guest@127.0.0.1:5673/%2F")
# The broker user each producer publishes as (docs/ARCHITECTURE.md, "Broker users"); an event whose AMQP
# user_id is not its producer's is dead-lettered. "producer=user" pairs over the defaults.
AMQP_PRODUCER_USERS = {"auth": "auth", "rentals": "rentals", "billing": "billing"} | {
    producer.strip(): user.strip()
    for producer, _, user in (item.partition("=") for item in env_list("AMQP_PRODUCER_USERS"))
}
# Tests only: suffixes the notifier's own exchanges and queues so a test never shares them with a stack.
NOTIFIER_AMQP_NAMESPACE = env("NOTIFIER_AMQP_NAMESPACE", "")
NOTIFIER_PREFETCH = env_int("NOTIFIER_PREFETCH", 32)
# How often the dispatcher looks for due messages (reminders, retries of lost hand-overs).
NOTIFIER_DISPATCH_POLL_SECONDS = env_nonnegative_float("NOTIFIER_DISPATCH_POLL_SECONDS", 0.5)
# A message handed to the worker is handed over again if it is still unsent this long after it was due.
NOTIFIER_DELIVERY_LEASE_SECONDS = env_nonnegative_float("NOTIFIER_DELIVERY_LEASE_SECONDS", 600)
NOTIFIER_MAX_RETRIES = env_int("NOTIFIER_MAX_RETRIES", 10)

# --- Channels ---
EMAIL_HOST = env("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_FROM = env("EMAIL_FROM", "Velo <no-reply@velo.example>")
EMAIL_TIMEOUT_SECONDS = env_nonnegative_float("EMAIL_TIMEOUT_SECONDS", 10)
TELEGRAM_BOT_TOKEN = env("TELEGRAM_BOT_TOKEN")
# /readyz reports which channels are on (core/health.py, the same file as rentals').
READYZ_DETAILS = "notifications.selectors.readiness_details"
TELEGRAM_API_BASE_URL = (env("TELEGRAM_API_BASE_URL", "https://api.telegram.org") or "").rstrip("/")
TELEGRAM_WEBHOOK_SECRET = env("TELEGRAM_WEBHOOK_SECRET")
# Optional: the bot's username for deep links; asked from Telegram (getMe) when unset.
TELEGRAM_BOT_USERNAME = env("TELEGRAM_BOT_USERNAME")
TELEGRAM_LINK_TTL_SECONDS = env_int("TELEGRAM_LINK_TTL_SECONDS", 600)

# --- What riders are told ---
PUBLIC_BASE_URL = (env("PUBLIC_BASE_URL", "http://127.0.0.1:8080") or "").rstrip("/")
RESERVATION_REMINDER_SECONDS = env_nonnegative_float("RESERVATION_REMINDER_SECONDS", 120)
LONG_RENTAL_REMINDER_MINUTES = env_nonnegative_float("LONG_RENTAL_REMINDER_MINUTES", 60)

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
        "httpx": {"level": "WARNING"},
        "telegram": {"level": "WARNING"},
        "celery": {"level": "INFO"},
    },
}
