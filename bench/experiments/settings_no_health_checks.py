"""Experiment overlay (bench only, never deployed): rentals production settings without Django's
per-request connection health check (the `SELECT 1` round trip before the first query of a request)."""

from config.settings.production import *  # noqa: F403
from config.settings.production import DATABASES

DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
