import datetime as dt
import uuid
from typing import Any

from core.contracts import validate_event
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from outbox.models import OutboxEvent

PRODUCER = "rentals"


def outbox_emit(*, event_type: str, data: dict[str, Any], exchange: str | None = None) -> OutboxEvent:
    """Write one event; call inside the transaction of the state change it describes."""
    event_id = uuid.uuid4()
    envelope = {
        "event_id": str(event_id),
        "event_type": event_type,
        "version": 1,
        "occurred_at": timezone.now().isoformat().replace("+00:00", "Z"),
        "producer": PRODUCER,
        "data": data,
    }
    validate_event(envelope)
    return OutboxEvent.objects.create(
        event_id=event_id,
        event_type=event_type,
        exchange=exchange or settings.RENTALS_EXCHANGE,
        payload=envelope,
    )


def outbox_prune(*, older_than: dt.datetime, batch_size: int) -> int:
    """Delete one batch of rows published before `older_than`, oldest first; returns how many.

    Unpublished rows are never touched. Rows another pruner holds are skipped (SKIP LOCKED), so
    several relays never wait on each other; the range scan uses `outbox_published_idx`.
    """
    with transaction.atomic():
        ids = list(
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(published_at__isnull=False, published_at__lt=older_than)
            .order_by("published_at")
            .values_list("pk", flat=True)[:batch_size]
        )
        # Delete by primary key list (index scan) rather than `IN (subquery)`, which the planner may
        # answer with a scan of the whole table.
        deleted, _ = OutboxEvent.objects.filter(pk__in=ids).delete() if ids else (0, None)
    return deleted
