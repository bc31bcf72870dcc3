"""LISTEN on a PostgreSQL channel over a connection of its own.

Used by the outbox relay (channel `outbox_event`, sent after the commit of every transaction that wrote outbox
rows, `core.notify`: notifications only shorten the relay's wait, its poll stays the fallback) and by the
bike-list page cache (channel `fleet_bike_changed`: the riders who just wrote, `fleet.page_cache`)."""

import logging
import select

import psycopg2
from django.db import connections

logger = logging.getLogger(__name__)


class NotificationListener:
    """A dedicated autocommit connection (never one that runs transactions). Not thread-safe: callers in
    several threads serialise their calls; any of them may close it."""

    def __init__(self, *, channel: str, alias: str = "default") -> None:
        self.channel = channel
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
                cursor.execute(f"LISTEN {self.channel}")
        except Exception:
            wrapper.close()
            raise
        wrapper.inc_thread_sharing()  # the caller's threads take turns with it (and close it)
        self._wrapper = wrapper

    def wait(self, timeout: float) -> bool:
        """Block up to `timeout` seconds; True when a notification arrived (all pending are consumed).

        A broken connection also returns True (so the caller polls at once) and stops listening; the
        caller calls listen() again.
        """
        received = self.receive(timeout)
        return received is None or bool(received)

    def receive(self, timeout: float) -> list[str] | None:
        """Block up to `timeout` seconds; the payloads of the notifications that arrived (all pending are
        consumed, oldest first; empty when none came). None when the connection broke: it stops listening
        and the caller calls listen() again."""
        if self._wrapper is None:
            return []
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
            payloads = [notification.payload for notification in raw.notifies]
            raw.notifies.clear()
            return payloads
        except (psycopg2.Error, OSError, ValueError) as exc:  # ValueError: select on a closed socket
            logger.warning("notification listener lost its connection", extra={"error": repr(exc)})
            self.close()
            return None

    def close(self) -> None:
        if self._wrapper is not None:
            try:
                self._wrapper.close()
            except Exception:  # the connection is gone either way
                logger.debug("notification listener close failed", exc_info=True)
            self._wrapper = None
