"""Bike-list pages served from this process's memory until the fleet changes.

`GET /api/bikes` is the hottest read (riders poll it) and its pages do not depend on who asks: any
authenticated, not deactivated user sees the same page for the same query. `BikeListPageCache` wraps the
WSGI application: the first request for a query goes through Django as usual and its 200 response (status,
headers, body) is kept; later requests for the same query, host and Accept header are answered from memory
after the same token check, with their own X-Request-ID and request log line.

Freshness: every statement that changes `fleet_bike` sends NOTIFY fleet_bike_changed on commit (migration
fleet 0003). `FleetChangeFeed` LISTENs on a connection of its own (`core.listener`, as the outbox relay) and
checks it (a non-blocking look at its socket) on every request; any notification drops every page. A page is
therefore only served while no committed bike change has reached this process since it was built, and a
write answered by this process drops its pages before the client sees the answer. The remaining window is a
notification's delivery to the other processes: on one 2-core host with its cores saturated by list traffic,
0 of 600 reads right after an operator's change showed the page from before (3 of 300 before writes dropped
their own process's pages at once). A page is also never older than `BIKE_LIST_CACHE_SECONDS`, which bounds
what a silently lost LISTEN connection could show (a connection the server closed is noticed at the next
request: its socket turns readable). Whenever changes cannot be followed (no connection yet, database down),
requests simply go through Django. Under steady rent/finish traffic pages rarely live long; the cache pays
in read-mostly moments (many riders polling the map), which is when the list is hammered.

Every request the process serves, of any kind, reads the notifications pending on that connection (one
non-blocking read), so its backend never waits on a full socket and PostgreSQL's notification queue keeps
moving; a process that serves nothing at all for days while others write is the case that would hold the
queue back (PostgreSQL warns at half full; the queue takes 8 GB).

Everything unusual goes through Django too: other methods and paths, a missing or refused token, a rider
whose deactivation the process has not checked lately, overdue reservations to expire (the expiry gate), and
any non-200 answer (never kept).
"""

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from core.authentication import decode_access_token, user_from_claims
from core.listener import NotificationListener
from core.request_id import new_request_id, reset_request_id, set_request_id
from django.conf import settings
from django.db import DatabaseError
from reservations import clock
from reservations.expiry_gate import expiry_gate
from rest_framework.exceptions import AuthenticationFailed
from riders.selectors import deactivated_riders

logger = logging.getLogger(__name__)
request_logger = logging.getLogger("velo.request")

CHANNEL = "fleet_bike_changed"
PATH = "/api/bikes"
MAX_PAGES = 512
RETRY_SECONDS = 5.0
# What Django's answer for the same query depends on besides the database: the absolute `next`/`previous`
# links (host, scheme; production trusts X-Forwarded-Host/-Proto) and content negotiation.
KEY_ENVIRON = (
    "QUERY_STRING",
    "HTTP_HOST",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PROTO",
    "wsgi.url_scheme",
    "SERVER_NAME",
    "SERVER_PORT",
    "HTTP_ACCEPT",
)


class FleetChangeFeed:
    """A generation number that moves whenever a committed change of `fleet_bike` has been notified, or
    when notifications may have been missed (a new LISTEN connection). `generation()` is None while
    changes cannot be followed."""

    def __init__(self, *, alias: str = "default") -> None:
        self._lock = threading.Lock()
        self._listener = NotificationListener(channel=CHANNEL, alias=alias)  # used under the lock only
        self._generation = 0
        self._retry_at = 0.0

    def generation(self) -> int | None:
        # While one thread (re)connects, which may take up to the connect timeout, the others do not wait
        # for it: they are answered by Django meanwhile.
        if not self._lock.acquire(blocking=self._listener.listening):
            return None
        try:
            return self._generation_locked()
        finally:
            self._lock.release()

    def _generation_locked(self) -> int | None:
        now = time.monotonic()
        if not self._listener.listening:
            if now < self._retry_at:
                return None
            try:
                self._listener.listen()
            except DatabaseError as exc:
                logger.warning("fleet change feed cannot listen", extra={"error": repr(exc)})
                self._retry_at = now + RETRY_SECONDS
                return None
            # Changes made while nobody listened are unknown: nothing built before counts.
            self._generation += 1
        # One non-blocking look: True for notifications, and for a connection the server closed.
        if self._listener.wait(0):
            self._generation += 1
            if not self._listener.listening:
                self._retry_at = now + RETRY_SECONDS
                return None
        return self._generation

    def close(self) -> None:
        with self._lock:
            if self._listener.listening:
                self._listener.close()
                self._generation += 1


@dataclass(frozen=True, slots=True)
class _Page:
    built_at: float
    status: str
    headers: list[tuple[str, str]]
    body: bytes


class BikeListPageCache:
    """WSGI middleware in front of the Django application (see the module docstring)."""

    def __init__(self, app: Callable, *, feed: FleetChangeFeed | None = None) -> None:
        self.app = app
        self.feed = feed or FleetChangeFeed()
        self._lock = threading.Lock()
        self._pages: dict[tuple, _Page] = {}
        self._generation: int | None = None
        self._writes = 0  # writes answered by this process; a page built across one is not kept

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        max_age = settings.BIKE_LIST_CACHE_SECONDS
        if max_age <= 0:
            return self.app(environ, start_response)
        # Every request reads what was notified meanwhile, whatever it asks for: the connection's backend
        # can only move on in PostgreSQL's notification queue while this process reads its socket.
        generation = self.feed.generation()
        method = environ.get("REQUEST_METHOD")
        if method not in ("GET", "HEAD"):
            result = self.app(environ, start_response)
            # A write answered here has committed by now: this process's pages are dropped before the
            # client sees the answer, without waiting for the notification (which other processes wait for).
            with self._lock:
                self._pages.clear()
                self._writes += 1
            return result
        if method != "GET" or environ.get("PATH_INFO") != PATH or generation is None:
            return self.app(environ, start_response)
        key = tuple(environ.get(name) for name in KEY_ENVIRON)
        now = time.monotonic()
        with self._lock:
            if generation != self._generation:
                self._pages.clear()
                self._generation = generation
            page = self._pages.get(key)
            writes = self._writes
        if page is not None and now - page.built_at < max_age and self._reader_allowed(environ):
            return self._replay(page, environ, start_response)
        # Django answers (and refuses) as usual; a 200 is kept: the page does not depend on who asked.
        return self._build(key, (generation, writes), now, environ, start_response)

    def _reader_allowed(self, environ: dict) -> bool:
        """The token check of `JWTAuthentication` for a read; False sends the request to Django, which
        answers it (or refuses it) itself."""
        header = environ.get("HTTP_AUTHORIZATION", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token or " " in token:
            return False
        try:
            user = user_from_claims(decode_access_token(token))
        except AuthenticationFailed:
            return False
        deactivated = deactivated_riders.known(user.id, max_age=settings.RIDER_STATUS_CACHE_SECONDS)
        return deactivated is False and not expiry_gate.is_due(now=clock.now())

    def _replay(self, page: _Page, environ: dict, start_response: Callable) -> list[bytes]:
        started = time.perf_counter()
        request_id = new_request_id(environ.get("HTTP_X_REQUEST_ID"))
        start_response(page.status, [*page.headers, ("X-Request-ID", request_id)])
        token = set_request_id(request_id)
        try:
            request_logger.info(
                "request",
                extra={
                    "method": "GET",
                    "path": PATH,
                    "status": 200,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "cache": "hit",
                },
            )
        finally:
            reset_request_id(token)
        return [page.body]

    def _build(self, key, seen: tuple[int, int], built_at, environ, start_response) -> Iterable[bytes]:
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        result = self.app(environ, capture)
        if not captured.get("status", "").startswith("200 "):
            return result
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        page = _Page(
            built_at=built_at,
            status=captured["status"],
            headers=[(name, value) for name, value in captured["headers"] if name.lower() != "x-request-id"],
            body=body,
        )
        # Kept only if no change was notified or written here meanwhile (the feed is read again: the page
        # may predate a notification that arrived while it was built).
        generation = self.feed.generation()
        with self._lock:
            if (generation, self._writes) == seen and generation == self._generation:
                if len(self._pages) >= MAX_PAGES:
                    self._pages.clear()
                self._pages[key] = page
        return [body]
