from .base import *  # noqa: F403

# Tests always talk to real PostgreSQL: DATABASE_URL is mapped from NOTIFIER_DATABASE_URL by the runner.
ALLOWED_HOSTS = ["*"]
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
# Tests control the channel and the clock themselves: a stack's settings must not leak in.
TELEGRAM_BOT_TOKEN = "123456:test-token"
TELEGRAM_BOT_USERNAME = "velo_test_bot"
TELEGRAM_API_BASE_URL = "http://127.0.0.1:9/telegram"
TELEGRAM_WEBHOOK_SECRET = "test-webhook-secret"
RESERVATION_REMINDER_SECONDS = 120
LONG_RENTAL_REMINDER_MINUTES = 60
CELERY_TASK_ALWAYS_EAGER = False
