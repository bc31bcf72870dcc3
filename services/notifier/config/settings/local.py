from config.settings.env import env

from .base import *  # noqa: F403

SECRET_KEY = env("DJANGO_SECRET_KEY", "insecure-dev-only-key")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_X_FORWARDED_HOST = True
