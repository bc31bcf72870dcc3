from config.settings.env import env

from .base import *  # noqa: F403

# Tests always talk to real PostgreSQL: DATABASE_URL is mapped from RENTALS_DATABASE_URL by the runner.
ALLOWED_HOSTS = ["*"]
PAYMENTS_WEBHOOK_SECRET = env("PAYMENTS_WEBHOOK_SECRET", "test-webhook-secret")
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
OUTBOX_RELAY_POLL_SECONDS = 0.05
# Tests control time themselves: a stack's short reservation setting (e2e uses 0.25) must not leak in.
RESERVATION_MINUTES = 10
RESERVATION_SWEEP_SECONDS = 15
# Unit tests deactivate and read at once; the per-process copy has its own tests.
RIDER_STATUS_CACHE_SECONDS = 0
# Every event the tests make the services emit is checked against its contract.
OUTBOX_VALIDATE_ON_EMIT = True
