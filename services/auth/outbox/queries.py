"""Hand-written SQL of the outbox (STYLE.md, convention 9): the INSERT of every emitted event and the relay's
three statements run on every write and every relay pass, where the ORM's statement building cost more than
the statements (BENCHMARKS.md). Columns come from the model (`core.rows`).

The same file in auth and rentals (tools/check_shared_code.py)."""

import datetime as dt

from core import rows

from outbox.models import OutboxEvent

INSERT = rows.insert_statement(OutboxEvent, exclude=["id"], suffix="RETURNING id")
# The payload is read as text (Django would parse it); the relay publishes it as it is.
LOCK_BATCH = (
    f"SELECT id, event_id, event_type, exchange, payload::text FROM {rows.table(OutboxEvent)} "  # noqa: S608
    "WHERE published_at IS NULL AND available_at <= %s ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED"
)
MARK_PUBLISHED = (
    f"UPDATE {rows.table(OutboxEvent)} SET published_at = %s, attempts = attempts + 1 WHERE id = ANY(%s)"  # noqa: S608
)
RETRY_LATER = (
    f"UPDATE {rows.table(OutboxEvent)} SET available_at = %s, attempts = attempts + 1 WHERE id = ANY(%s)"  # noqa: S608
)


def event_insert(*, cursor, event: OutboxEvent) -> OutboxEvent:
    """Insert `event`; it comes back saved, with its id."""
    rows.insert_returning_id(cursor=cursor, statement=INSERT, instance=event)
    return event


def batch_lock(*, cursor, now: dt.datetime, limit: int) -> list[tuple]:
    """Up to `limit` unpublished events that are due, oldest first, locked (others' locked rows skipped):
    (id, event_id, event_type, exchange, payload as JSON text)."""
    cursor.execute(LOCK_BATCH, [now, limit])
    return cursor.fetchall()


def mark_published(*, cursor, ids: list[int], at: dt.datetime) -> None:
    cursor.execute(MARK_PUBLISHED, [at, ids])


def retry_later(*, cursor, ids: list[int], at: dt.datetime) -> None:
    cursor.execute(RETRY_LATER, [at, ids])
