from config.settings.env import env_bool, env_required

from .base import *  # noqa: F403

SECRET_KEY = env_required("DJANGO_SECRET_KEY")
DATABASES["default"]["CONN_MAX_AGE"] = 60  # noqa: F405
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_X_FORWARDED_HOST = True
# The tests validate every event type the services emit; see OUTBOX_VALIDATE_ON_EMIT in base.py.
OUTBOX_VALIDATE_ON_EMIT = env_bool("OUTBOX_VALIDATE_ON_EMIT", False)
