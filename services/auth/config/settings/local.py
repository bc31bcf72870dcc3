"""Developer machine: DEBUG on by default, PBKDF2 is fine but Argon2 stays first."""

from config.settings.base import *  # noqa: F403
from config.settings.env import env_bool

DEBUG = env_bool("DJANGO_DEBUG", True)
