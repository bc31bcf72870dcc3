"""Test settings: a fast password hasher, in-memory mail unless a test asks for the real SMTP sink."""

from config.settings.base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
AUTH_REQUIRE_EMAIL_VERIFICATION = True
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
PUBLIC_BASE_URL = "http://gateway.test"
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
LOGGING["loggers"]["django"]["level"] = "ERROR"  # noqa: F405
AUTH_MAIL_ASYNC = False  # mail.outbox holds a message as soon as the service returns
ADMIN_UI_ENABLED = True  # the admin's own tests; test_admin_routing checks the default (off)
OUTBOX_RELAY_POLL_SECONDS = 0.05
OUTBOX_VALIDATE_ON_EMIT = True  # every event the tests make the services emit is checked against its contract
