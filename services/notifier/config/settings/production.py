from config.settings.env import env_required

from .base import *  # noqa: F403

SECRET_KEY = env_required("DJANGO_SECRET_KEY")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_X_FORWARDED_HOST = True
