"""NOTIFY after commit, never inside a write transaction (kept identical in auth and rentals).

PostgreSQL takes a database-wide lock from a notifying transaction's pre-commit through its commit, so
transactions that NOTIFY commit one at a time (TOOLCHAIN.md, BENCHMARKS.md). Writes therefore only note what
to announce (`notify_on_commit`, e.g. the outbox's `outbox_event`); once their transaction has committed, the
notes are sent as one `SELECT pg_notify(...)` in autocommit on the same connection — a short transaction of
its own, before the request is answered.

A notification is a hint, never the only path: listeners also poll (the outbox relays) or bound what they
keep. So a notification lost with a connection only delays; and a note left over from a rolled-back
transaction (Django drops its commit hook, the note stays) merely goes out with this thread's next commit,
one wake-up too many.
"""

import logging
import threading

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction

logger = logging.getLogger(__name__)

_NOTIFY_ONE = "pg_notify(%s, %s)"

_pending = threading.local()


def _notes(using: str) -> set[tuple[str, str]]:
    by_alias = getattr(_pending, "by_alias", None)
    if by_alias is None:
        by_alias = _pending.by_alias = {}
    return by_alias.setdefault(using, set())


def notify_on_commit(channel: str, payload: str = "", *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Send `NOTIFY channel, payload` once the current transaction commits (at once outside one).
    Repeats within a transaction are sent once; all of a transaction's notes go in one statement."""
    _notes(using).add((channel, payload))
    transaction.on_commit(lambda: notify_pending(using=using), using=using)


def notify_pending(*, using: str = DEFAULT_DB_ALIAS) -> None:
    """Send this thread's notes now (the first commit hook of a transaction sends them all)."""
    notes = _notes(using)
    if not notes:
        return
    items = sorted(notes)
    notes.clear()
    statement = "SELECT " + ", ".join([_NOTIFY_ONE] * len(items))
    try:
        with connections[using].cursor() as cursor:
            cursor.execute(statement, [value for item in items for value in item])
    except DatabaseError as exc:
        # The write itself has committed; listeners fall back on their polls and age bounds.
        logger.warning("notification after commit failed", extra={"error": repr(exc)})
