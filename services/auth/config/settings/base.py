"""Settings shared by every environment. Every difference between environments is an env var."""

from datetime import timedelta
from pathlib import Path

import dj_database_url

from config.settings.env import env, env_bool, env_int, env_list

BASE_DIR = Path(__file__).resolve().parent.parent.parent  # services/auth
REPO_DIR = BASE_DIR.parent.parent

SECRET_KEY = env("DJANGO_SECRET_KEY", "insecure-dev-only-secret-key-change-me-0123456789abcdef")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", "http://127.0.0.1:8080").rstrip("/")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", PUBLIC_BASE_URL)

INSTALLED_APPS = [
    "accounts.admin_config.VeloAdminConfig",  # django.contrib.admin with the throttled login
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "core",
    "accounts",
    "tokens",
    "outbox",
    "agencies",
]

MIDDLEWARE = [
    "core.middleware.RequestIdMiddleware",
    "core.probes.ProbeMiddleware",
    "core.cookies.SecureCookiesMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Persistent connections, health-checked before each request's first query by polling the idle socket
# (core.postgresql: no `SELECT 1` round trip per request, measured in BENCHMARKS.md), so a connection
# the server closed (restart, failover) is replaced instead of failing a request.
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", "postgres://auth:auth@127.0.0.1:5433/auth"),
        conn_max_age=60,
        conn_health_checks=True,
    )
}
DATABASES["default"]["ENGINE"] = "core.postgresql"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "name")},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "accounts.hashers.Argon2idHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/api/auth/static/"
# The stack scripts pass AUTH_STATIC_ROOT; the default sits beside the code (git-ignored).
STATIC_ROOT = env("STATIC_ROOT", env("AUTH_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- email ---------------------------------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = env_int("EMAIL_PORT", 1025)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)  # STARTTLS, e.g. port 587
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
DEFAULT_FROM_EMAIL = env("EMAIL_FROM", "Velo <no-reply@velo.example>")

# --- REST framework / OpenAPI ----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["tokens.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "core.exception_handlers.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    "DATETIME_FORMAT": "iso-8601",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Velo auth API",
    "DESCRIPTION": "Accounts, email confirmation, RS256 access tokens (JWKS), refresh rotation, operators.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/auth",
    "ENUM_NAME_OVERRIDES": {},
}

# --- JWT -------------------------------------------------------------------------------------------
JWT_KEYS_DIR = env("JWT_KEYS_DIR", str(REPO_DIR / ".run" / "dev" / "secrets" / "jwt"))
JWT_PUBLIC_KEYS_DIR = env("JWT_PUBLIC_KEYS_DIR", JWT_KEYS_DIR)
JWT_SIGNING_KID = env("JWT_SIGNING_KID", "")
JWT_ISSUER = env("JWT_ISSUER", "velo-auth")
JWT_AUDIENCE = env("JWT_AUDIENCE", "velo")
JWT_ACCESS_TTL_SECONDS = env_int("JWT_ACCESS_TTL_SECONDS", 300)
JWT_REFRESH_TTL_SECONDS = env_int("JWT_REFRESH_TTL_SECONDS", 1_209_600)
# Agency clients (MDS Provider API): lifetime of their access tokens, which is also how long a revoked
# client's last token keeps working; the provider id new clients get unless the operator names one
# (rentals serves MDS only to tokens carrying its own MDS_PROVIDER_ID).
AGENCY_TOKEN_TTL_SECONDS = env_int("AGENCY_TOKEN_TTL_SECONDS", 3600)
MDS_PROVIDER_ID = env("MDS_PROVIDER_ID", "9ee69a69-91ba-5999-949d-a1a03f9c4c3b")

SIMPLE_JWT = {
    "ALGORITHM": "RS256",
    "AUDIENCE": JWT_AUDIENCE,
    "ISSUER": JWT_ISSUER,
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=JWT_ACCESS_TTL_SECONDS),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "sub",
    "TOKEN_TYPE_CLAIM": "token_type",
    "JTI_CLAIM": "jti",
    "AUTH_HEADER_TYPES": ("Bearer",),
    "AUTH_TOKEN_CLASSES": ("tokens.jwt.AccessToken",),
    "LEEWAY": 0,
    "UPDATE_LAST_LOGIN": False,
    "CHECK_REVOKE_TOKEN": False,
}

# --- auth service behaviour ------------------------------------------------------------------------
AUTH_REQUIRE_EMAIL_VERIFICATION = env_bool("AUTH_REQUIRE_EMAIL_VERIFICATION", True)
AUTH_EMAIL_VERIFICATION_TTL_SECONDS = env_int("AUTH_EMAIL_VERIFICATION_TTL_SECONDS", 172_800)
# Who may tell us the client address: X-Real-IP counts only from a TCP peer in these networks (the
# gateway). Local stack: nginx on the same host. Containers: the gateway's own address or subnet.
GATEWAY_ADDRESSES = env_list("GATEWAY_ADDRESSES", "127.0.0.1/32,::1/128")
# Login throttling (OWASP Authentication Cheat Sheet): failures are counted per (email, client address);
# after AUTH_LOGIN_FREE_FAILURES each further attempt from that address for that email must wait a
# doubling delay (AUTH_LOGIN_DELAY_BASE_SECONDS, 2x, 4x … up to AUTH_LOGIN_DELAY_MAX_SECONDS); the
# count starts over after a success or AUTH_LOGIN_FAILURE_RESET_SECONDS without a failure. An address
# also has a ceiling of AUTH_LOGIN_RATE_PER_IP failures per AUTH_LOGIN_RATE_WINDOW_SECONDS over all
# emails. Nothing is counted per account alone, so others' failures never lock the owner out.
AUTH_LOGIN_FREE_FAILURES = env_int("AUTH_LOGIN_FREE_FAILURES", 5)
AUTH_LOGIN_DELAY_BASE_SECONDS = env_int("AUTH_LOGIN_DELAY_BASE_SECONDS", 2)
AUTH_LOGIN_DELAY_MAX_SECONDS = env_int("AUTH_LOGIN_DELAY_MAX_SECONDS", 900)
AUTH_LOGIN_FAILURE_RESET_SECONDS = env_int("AUTH_LOGIN_FAILURE_RESET_SECONDS", 3600)
AUTH_LOGIN_RATE_PER_IP = env_int("AUTH_LOGIN_RATE_PER_IP", 30)
AUTH_LOGIN_RATE_WINDOW_SECONDS = env_int("AUTH_LOGIN_RATE_WINDOW_SECONDS", 300)
# Per client address, per AUTH_ADDRESS_RATE_WINDOW_SECONDS: registrations, confirmation resends,
# password-reset requests and failed password changes.
AUTH_ADDRESS_RATE_WINDOW_SECONDS = env_int("AUTH_ADDRESS_RATE_WINDOW_SECONDS", 3600)
AUTH_REGISTER_RATE_PER_IP = env_int("AUTH_REGISTER_RATE_PER_IP", 20)
AUTH_RESEND_RATE_PER_IP = env_int("AUTH_RESEND_RATE_PER_IP", 20)
AUTH_RESET_RATE_PER_IP = env_int("AUTH_RESET_RATE_PER_IP", 20)
AUTH_PASSWORD_CHANGE_RATE_PER_IP = env_int("AUTH_PASSWORD_CHANGE_RATE_PER_IP", 20)
# Per account (submitted email / signed-in user), per AUTH_LOGIN_RATE_WINDOW_SECONDS: confirmation
# resends (429 beyond), mails about reset requests and register attempts (silently not sent beyond, so
# the answer never tells whether the address has an account) and failed password changes (429 beyond).
AUTH_RESEND_RATE_PER_ACCOUNT = env_int("AUTH_RESEND_RATE_PER_ACCOUNT", 5)
AUTH_ACCOUNT_MAIL_RATE_PER_ACCOUNT = env_int("AUTH_ACCOUNT_MAIL_RATE_PER_ACCOUNT", 5)
AUTH_PASSWORD_CHANGE_RATE_PER_ACCOUNT = env_int("AUTH_PASSWORD_CHANGE_RATE_PER_ACCOUNT", 5)
# Password reset links (single use: they carry a fingerprint of the current password hash).
PASSWORD_RESET_TTL_SECONDS = env_int("PASSWORD_RESET_TTL_SECONDS", 3600)
# Account mails leave from a background thread of the web process, so an answer takes the same time
# whether a mail was sent or not (no account enumeration by timing). Tests send synchronously.
AUTH_MAIL_ASYNC = env_bool("AUTH_MAIL_ASYNC", True)
# The Django admin (/api/auth/admin/) is routed only when enabled; its login is throttled like logins.
ADMIN_UI_ENABLED = env_bool("ADMIN_UI_ENABLED", False)

# --- events ----------------------------------------------------------------------------------------
AMQP_URL = env("AMQP_URL", "amqp://guest:guest@127.0.0.1:5673/%2F")
# The outbox (outbox/, the same files in auth and rentals): this service's name in envelopes and as AMQP
# app_id, the exchange its events go to, the events that must reach a queue (none here), and the relay's
# batch, fallback poll and linger after a NOTIFY. OUTBOX_BATCH_SIZE and OUTBOX_POLL_INTERVAL_SECONDS are the
# former names of the relay settings, still read (when the new name is unset) for one release.
EVENT_PRODUCER = "auth"
OUTBOX_EXCHANGE = "auth.events"
OUTBOX_MANDATORY_EVENTS = frozenset()
OUTBOX_RELAY_BATCH_SIZE = env_int("OUTBOX_RELAY_BATCH_SIZE", env_int("OUTBOX_BATCH_SIZE", 100))
OUTBOX_RELAY_POLL_SECONDS = float(
    env("OUTBOX_RELAY_POLL_SECONDS", env("OUTBOX_POLL_INTERVAL_SECONDS", "0.5"))
)
OUTBOX_RELAY_COALESCE_SECONDS = float(env("OUTBOX_RELAY_COALESCE_SECONDS", "0.05"))
# Check every emitted event against its JSON Schema in contracts/ before writing it (core.contracts; off in
# production.py: the unit tests emit every event type through the real services and validate it).
OUTBOX_VALIDATE_ON_EMIT = env_bool("OUTBOX_VALIDATE_ON_EMIT", True)
# Retention: published outbox rows older than this are deleted in batches by the relay (every
# RETENTION_PRUNE_INTERVAL_SECONDS) and by `manage.py prune_outbox`; unpublished rows are never deleted.
OUTBOX_RETENTION_HOURS = float(env("OUTBOX_RETENTION_HOURS", "168"))
RETENTION_PRUNE_INTERVAL_SECONDS = float(env("RETENTION_PRUNE_INTERVAL_SECONDS", "300"))
RETENTION_PRUNE_BATCH_SIZE = env_int("RETENTION_PRUNE_BATCH_SIZE", 1000)
OUTBOX_RELAY_EXTRA_PRUNERS: dict[str, tuple[str, str]] = {}  # nothing besides the outbox

# --- logging ---------------------------------------------------------------------------------------
LOG_LEVEL = env("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.logging.RequestIdFilter"}},
    "formatters": {"json": {"()": "core.logging.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "pika": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}

SESSION_COOKIE_PATH = "/api/auth/"
CSRF_COOKIE_PATH = "/api/auth/"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
