from .base import *  # noqa: F403
from .base import env_required

SECRET_KEY = env_required("DJANGO_SECRET_KEY")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_X_FORWARDED_HOST = True
