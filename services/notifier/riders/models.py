"""What the notifier knows about a rider: where to reach them and what they want to hear."""

from django.db import models


class Category(models.TextChoices):
    RECEIPTS = "receipts"
    REMINDERS = "reminders"
    ACCOUNT = "account"


class Channel(models.TextChoices):
    EMAIL = "email"
    TELEGRAM = "telegram"


class Rider(models.Model):
    """One row per rider (auth's user id). The address comes from user.registered; riders registered
    before the notifier existed get it from their next rental.finished (it carries user_email) or from
    their access token when they call this API, whichever comes first."""

    user_id = models.UUIDField(primary_key=True)
    email = models.CharField(max_length=254, blank=True, default="")
    name = models.CharField(max_length=200, blank=True, default="")
    telegram_chat_id = models.BigIntegerField(null=True, blank=True, unique=True)
    telegram_linked_at = models.DateTimeField(null=True, blank=True)
    # Channel per category; Telegram applies only while a chat is linked.
    receipts_email = models.BooleanField(default=True)
    receipts_telegram = models.BooleanField(default=True)
    reminders_email = models.BooleanField(default=True)
    reminders_telegram = models.BooleanField(default=True)
    account_email = models.BooleanField(default=True)
    account_telegram = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return str(self.user_id)

    def wants(self, *, category: str, channel: str) -> bool:
        return bool(getattr(self, f"{category}_{channel}"))


class TelegramLinkCode(models.Model):
    """A one-time code of a deep link https://t.me/<bot>?start=<code>; it expires and is used once."""

    code = models.CharField(max_length=64, primary_key=True)
    user_id = models.UUIDField(db_index=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"link code of {self.user_id}"
