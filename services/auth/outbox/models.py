import uuid

from django.db import models


class OutboxEvent(models.Model):
    """An event written in the same transaction as the state change; the relay publishes it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)  # = event_id
    event_type = models.CharField(max_length=64)
    payload = models.JSONField()  # the whole envelope, exactly as published
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(
                fields=["created_at"],
                name="outbox_pending_idx",
                condition=models.Q(published_at__isnull=True),
            ),
            # Retention: published rows are deleted oldest first in batches (outbox.services.outbox_prune).
            models.Index(
                fields=["published_at"],
                name="outbox_published_idx",
                condition=models.Q(published_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.id}"
