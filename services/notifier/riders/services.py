"""Riders' writes: preferences, Telegram linking and unlinking, the bot's webhook updates."""

import datetime as dt
import hmac
import logging
import secrets
import uuid

from core.exceptions import InvalidSecret, ServiceUnavailable
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from notifications import services as notifications
from notifications.integrations import telegram
from notifications.models import InboxEvent

from riders.models import Category, Channel, Rider, TelegramLinkCode

logger = logging.getLogger(__name__)


@transaction.atomic
def preferences_update(*, user_id: uuid.UUID, email: str, name: str, changes: dict) -> Rider:
    """``changes``: {category: {channel: bool}} for any subset of the categories and channels."""
    rider = notifications.rider_contact_update(user_id=user_id, email=email, name=name)
    fields = []
    for category, channels in changes.items():
        for channel, wanted in channels.items():
            setattr(rider, f"{Category(category)}_{Channel(channel)}", bool(wanted))
            fields.append(f"{category}_{channel}")
    if fields:
        rider.save(update_fields=[*fields, "updated_at"])
    return rider


@transaction.atomic
def telegram_link_create(*, user_id: uuid.UUID, email: str, name: str) -> tuple[TelegramLinkCode, str]:
    """A one-time deep link (https://t.me/<bot>?start=<code>), valid TELEGRAM_LINK_TTL_SECONDS."""
    if not telegram.enabled():
        raise ServiceUnavailable("Telegram notifications are not configured on this deployment.")
    try:
        username = telegram.bot_username()
    except Exception as exc:
        logger.warning("telegram getMe failed", extra={"error": repr(exc)})
        raise ServiceUnavailable("Telegram is not reachable right now; try again shortly.")
    notifications.rider_contact_update(user_id=user_id, email=email, name=name)
    now = timezone.now()
    code = TelegramLinkCode.objects.create(
        code=secrets.token_urlsafe(24),
        user_id=user_id,
        created_at=now,
        expires_at=now + dt.timedelta(seconds=settings.TELEGRAM_LINK_TTL_SECONDS),
    )
    return code, f"https://t.me/{username}?start={code.code}"


@transaction.atomic
def telegram_unlink(*, user_id: uuid.UUID) -> None:
    rider = Rider.objects.filter(user_id=user_id, telegram_chat_id__isnull=False).first()
    if rider is not None:
        notifications.telegram_chat_unbind(chat_id=rider.telegram_chat_id)


def webhook_secret_check(*, given: str | None) -> None:
    expected = settings.TELEGRAM_WEBHOOK_SECRET
    if not expected or not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise InvalidSecret("The X-Telegram-Bot-Api-Secret-Token header is missing or wrong.")


@transaction.atomic
def telegram_update_apply(*, update_id: int, chat_id: int | None, text: str) -> str:
    """One update of the bot (each applied once, keyed by update_id). Returns what was done."""
    inbox_id = uuid.uuid5(uuid.NAMESPACE_URL, f"velo:telegram-update:{update_id}")
    _, created = InboxEvent.objects.get_or_create(
        event_id=inbox_id, defaults={"event_type": "telegram.update"}
    )
    if not created:
        return "duplicate"
    if chat_id is None:
        return "ignored"
    command, _, argument = text.strip().partition(" ")
    command = command.split("@", 1)[0]
    if command == "/start":
        return _start(update_id=update_id, chat_id=chat_id, code=argument.strip())
    if command == "/stop":
        linked = Rider.objects.filter(telegram_chat_id=chat_id).exists()
        notifications.telegram_chat_unbind(chat_id=chat_id)
        template = "telegram_unlinked" if linked else "telegram_not_linked"
        notifications.telegram_reply_create(chat_id=chat_id, update_id=update_id, template=template)
        return "unlinked" if linked else "not-linked"
    notifications.telegram_reply_create(chat_id=chat_id, update_id=update_id, template="telegram_help")
    return "help"


def _start(*, update_id: int, chat_id: int, code: str) -> str:
    now = timezone.now()
    link = TelegramLinkCode.objects.select_for_update().filter(code=code).first() if code else None
    if link is None or link.used_at is not None or link.expires_at <= now:
        notifications.telegram_reply_create(
            chat_id=chat_id, update_id=update_id, template="telegram_link_invalid"
        )
        return "invalid-code"
    link.used_at = now
    link.save(update_fields=["used_at"])
    # A chat belongs to one rider: linking it here unlinks it from anyone else.
    notifications.telegram_chat_unbind(chat_id=chat_id)
    rider, _ = Rider.objects.get_or_create(user_id=link.user_id)
    rider.telegram_chat_id, rider.telegram_linked_at = chat_id, now
    rider.save(update_fields=["telegram_chat_id", "telegram_linked_at", "updated_at"])
    notifications.telegram_reply_create(chat_id=chat_id, update_id=update_id, template="telegram_linked")
    return "linked"
