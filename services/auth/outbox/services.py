"""Writing events into the outbox (inside the transaction of the state change) and pruning published rows.

The same file in auth and rentals (tools/check_shared_code.py); the service's own parts are settings:
EVENT_PRODUCER, OUTBOX_EXCHANGE, OUTBOX_VALIDATE_ON_EMIT."""

import datetime as dt
import uuid
from typing import Any

from core.contracts import validate_event
from core.notify import notify_on_commit
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from outbox import queries
from outbox.models import OutboxEvent

# The relay LISTENs on it; sent after the commit of every transaction that wrote outbox rows (core.notify:
# never inside the transaction, where NOTIFY would serialise commits database-wide).
CHANNEL = "outbox_event"
EVENT_VERSION = 1


def rfc3339(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def outbox_emit(
    *,
    event_type: str,
    data: dict[str, Any],
    exchange: str | None = None,
    occurred_at: dt.datetime | None = None,
) -> OutboxEvent:
    """Write one event; call inside the transaction of the state change it describes. Once that
    transaction commits, NOTIFY outbox_event wakes the relay (never inside it: core.notify).

    The envelope is checked against its contract when OUTBOX_VALIDATE_ON_EMIT is on (dev and tests; the
    tests emit every event type through the real services, so production skips the check)."""
    event_id = uuid.uuid4()
    now = timezone.now()
    envelope = {
        "event_id": str(event_id),
        "event_type": event_type,
        "version": EVENT_VERSION,
        "occurred_at": rfc3339(occurred_at or now),
        "producer": settings.EVENT_PRODUCER,
        "data": data,
    }
    if settings.OUTBOX_VALIDATE_ON_EMIT:
        validate_event(envelope)
    exchange = exchange or settings.OUTBOX_EXCHANGE
    event = OutboxEvent(
        event_id=event_id,
        event_type=event_type,
        exchange=exchange,
        payload=envelope,
        created_at=now,
        available_at=now,
    )
    # One plain INSERT instead of `objects.create()`: the ORM's per-call compile was most of an emit's cost
    # on the rent/finish path (outbox.queries).
    with connection.cursor() as cursor:
        queries.event_insert(cursor=cursor, event=event)
    notify_on_commit(CHANNEL)
    return event


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
