"""Production (also used by the local stack): DEBUG off, secret key required, Argon2 hashing."""

from config.settings.base import *  # noqa: F403
from config.settings.env import env_bool, env_int, env_required

DEBUG = False
SECRET_KEY = env_required("DJANGO_SECRET_KEY")
PASSWORD_HASHERS = [
    "accounts.hashers.Argon2idHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# A missing manifest entry falls back to the plain name instead of failing the admin pages.
WHITENOISE_MANIFEST_STRICT = False
# https as the client saw it: the gateway passes X-Forwarded-Proto on only from proxies it trusts
# (TRUSTED_PROXIES) and otherwise sets its own scheme, so the header cannot be chosen by a client.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Session and CSRF cookies (the Django admin only) are marked Secure on every https request
# (core.cookies.SecureCookiesMiddleware); set these to true to mark them Secure on plain http too.
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", False)
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
# The tests validate every event type the services emit; see OUTBOX_VALIDATE_ON_EMIT in base.py.
OUTBOX_VALIDATE_ON_EMIT = env_bool("OUTBOX_VALIDATE_ON_EMIT", False)
