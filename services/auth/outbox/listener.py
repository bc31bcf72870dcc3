"""Wakes the relay when outbox rows are committed: LISTEN on the channel `outbox.services` notifies right
after the commit of every transaction that recorded events. Notifications only shorten the relay's wait;
the poll stays as the fallback, so a lost connection or a missed notification delays events by at most
one poll interval."""

import logging
import select

import psycopg2
from django.db import connections

from outbox.services import CHANNEL

logger = logging.getLogger(__name__)


class OutboxListener:
    """A dedicated autocommit connection (never the one the relay runs its transactions on)."""

    def __init__(self, *, alias: str = "default") -> None:
        self.alias = alias
        self._wrapper = None

    @property
    def listening(self) -> bool:
        return self._wrapper is not None

    def listen(self) -> None:
        """Start listening; raises django.db.DatabaseError when the database is unreachable."""
        wrapper = connections.create_connection(self.alias)
        try:
            with wrapper.cursor() as cursor:
                cursor.execute(f"LISTEN {CHANNEL}")
        except Exception:
            wrapper.close()
            raise
        self._wrapper = wrapper

    def wait(self, timeout: float) -> bool:
        """Block up to `timeout` seconds; True when a notification arrived (all pending are consumed).

        A broken connection also returns True (so the caller polls at once) and stops listening; the
        caller calls listen() again.
        """
        if self._wrapper is None:
            return False
        raw = self._wrapper.connection
        try:
            if not raw.notifies:
                readable, _, _ = select.select([raw], [], [], max(0.0, timeout))
                if readable:
                    raw.poll()
                    if not raw.notifies:
                        # Readable without a notification: usually the server closed the connection,
                        # which poll() does not report; a round trip does (and is rare and cheap).
                        with raw.cursor() as cursor:
                            cursor.execute("SELECT 1")
            if raw.notifies:
                raw.notifies.clear()
                return True
            return False
        except (psycopg2.Error, OSError, ValueError) as exc:  # ValueError: select on a closed socket
            logger.warning("outbox listener lost its connection", extra={"error": repr(exc)})
            self.close()
            return True

    def close(self) -> None:
        if self._wrapper is not None:
            try:
                self._wrapper.close()
            except Exception:  # the connection is gone either way
                logger.debug("outbox listener close failed", exc_info=True)
            self._wrapper = None
