"""Hand-written SQL of the notifier (STYLE.md, convention 9): recording an event as applied is an
`INSERT … ON CONFLICT DO NOTHING RETURNING`, which tells in one statement whether it is new; the ORM's
`bulk_create(ignore_conflicts=True)` cannot tell."""

from django.db import connection

from notifications.models import InboxEvent

INBOX_INSERT = (
    f"INSERT INTO {connection.ops.quote_name(InboxEvent._meta.db_table)} (event_id, event_type, received_at)"  # noqa: S608
    " VALUES (%s, %s, now()) ON CONFLICT (event_id) DO NOTHING RETURNING event_id"
)


def inbox_record(*, event_id: str, event_type: str) -> bool:
    """True when the event is new (and now recorded), False when it was applied before."""
    with connection.cursor() as cursor:
        cursor.execute(INBOX_INSERT, [event_id, event_type])
        return cursor.fetchone() is not None
