"""Recording events into the outbox (call inside the transaction that changes the state)."""

from datetime import UTC, datetime
from typing import Any

from core.notify import notify_on_commit
from django.conf import settings
from django.db import transaction

from outbox.models import OutboxEvent

# The relay LISTENs on it; sent after the commit of every transaction that recorded events (core.notify:
# never inside the transaction, where NOTIFY would serialise commits database-wide).
CHANNEL = "outbox_event"

EVENT_VERSION = 1


def rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


@transaction.atomic
def outbox_event_record(
    *, event_type: str, data: dict[str, Any], occurred_at: datetime | None = None
) -> OutboxEvent:
    event = OutboxEvent(event_type=event_type)
    event.payload = {
        "event_id": str(event.id),
        "event_type": event_type,
        "version": EVENT_VERSION,
        "occurred_at": rfc3339(occurred_at or datetime.now(tz=UTC)),
        "producer": settings.EVENT_PRODUCER,
        "data": data,
    }
    event.save(force_insert=True)
    notify_on_commit(CHANNEL)
    return event


def outbox_prune(*, older_than: datetime, batch_size: int) -> int:
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
