"""The inbox (events applied once) and the outgoing messages (each sent once)."""

from django.db import models


class InboxEvent(models.Model):
    """An event (or a Telegram update, keyed by a uuid5 of its update_id) already applied."""

    event_id = models.UUIDField(primary_key=True)
    event_type = models.CharField(max_length=64)
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return str(self.event_id)


class Kind(models.TextChoices):
    RENTAL_STARTED = "rental_started"
    RENTAL_FINISHED = "rental_finished"
    RECEIPT = "receipt"
    RESERVATION_REMINDER = "reservation_reminder"
    RESERVATION_EXPIRED = "reservation_expired"
    LONG_RENTAL = "long_rental"
    DAILY_CAP = "daily_cap"
    WALLET_NEGATIVE = "wallet_negative"
    TELEGRAM_REPLY = "telegram_reply"


class Status(models.TextChoices):
    PENDING = "pending"  # waits for due_at
    QUEUED = "queued"  # handed to the worker; handed over again if still unsent at due_at (the lease)
    SENT = "sent"
    CANCELLED = "cancelled"
    FAILED = "failed"  # refused for good, or retries exhausted (then also in notifier.deliveries.dlq)


class Notification(models.Model):
    """One message to one rider on one channel. ``key`` is unique (e.g. ``receipt:<invoice_id>:email``):
    a redelivered or re-emitted event finds its message already there and adds nothing."""

    key = models.CharField(max_length=200, unique=True)
    user_id = models.UUIDField(null=True, blank=True, db_index=True)
    channel = models.CharField(max_length=16)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    # What the message is about (rental or reservation id): reminders are cancelled by it.
    ref = models.CharField(max_length=64, blank=True, default="", db_index=True)
    # An explicit Telegram chat (replies to a chat that is not, or no longer, linked to a rider).
    chat_id = models.BigIntegerField(null=True, blank=True)
    context = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    due_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["due_at"],
                name="notification_due",
                condition=models.Q(status__in=["pending", "queued"]),
            )
        ]

    def __str__(self) -> str:
        return self.key
