import uuid

from django.db import models
from django.utils import timezone


class OutboxEvent(models.Model):
    """An event written in the same transaction as the state change; the relay publishes it."""

    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event_type = models.CharField(max_length=100)
    exchange = models.CharField(max_length=100)
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # Retry backoff for events the broker could not route yet (e.g. billing's queue not declared).
    available_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(
                fields=["id"], name="outbox_unpublished_idx", condition=models.Q(published_at__isnull=True)
            ),
            # Retention: published rows are deleted oldest first in batches (outbox.services.outbox_prune).
            models.Index(
                fields=["published_at"],
                name="outbox_published_idx",
                condition=models.Q(published_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"
