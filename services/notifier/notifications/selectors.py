"""Reads about the notifier's own state."""

from django.conf import settings


def readiness_details() -> dict[str, dict[str, str]]:
    """What /readyz reports besides its checks (READYZ_DETAILS): which channels are on. Telegram is off
    without TELEGRAM_BOT_TOKEN, which is a configuration, not a failure."""
    telegram = "on" if settings.TELEGRAM_BOT_TOKEN else "off: TELEGRAM_BOT_TOKEN is not set"
    return {"channels": {"email": "on", "telegram": telegram}}
