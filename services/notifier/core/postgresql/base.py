"""PostgreSQL backend whose per-request health check costs no round trip.

Django's `CONN_HEALTH_CHECKS` sends `SELECT 1` before the first query of every request. Instead, the
idle connection's socket is polled: between requests nothing should be waiting on it, so a readable
socket means the server has closed the session (restart, failover, idle timeout; PostgreSQL says so
before closing) and the connection is replaced before the request uses it. A connection that vanished
without a word (a network cut) still fails that one request, as a dead connection would with `SELECT 1`
after its timeout; Django then discards it.
"""

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self):
        if self.connection is None or not self.health_check_enabled or self.health_check_done:
            return
        if not self._socket_is_quiet():
            self.close()  # what a failed `SELECT 1` leads to: the next use connects afresh
        self.health_check_done = True

    def _socket_is_quiet(self) -> bool:
        try:
            readable, _, _ = select.select([self.connection.fileno()], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable
