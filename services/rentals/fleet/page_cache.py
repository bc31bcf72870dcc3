"""Bike-list pages served from this process's memory, at most a moment old.

`GET /api/bikes` is the hottest read (riders and trip planners poll it) and its pages do not depend on who
asks: any authenticated, not deactivated user sees the same page for the same query. `BikeListPageCache`
wraps the WSGI application: the first request for a query goes through Django as usual and its 200 response
(status, headers, body) is kept; later requests for the same query, host and Accept header are answered from
memory after the same token check, with their own X-Request-ID and request log line.

Freshness is a product rule (services/rentals/README.md, "Freshness of bike lists"):
- Everyone: a page is served for at most `BIKE_LIST_MAX_AGE_SECONDS` (0.5 s) after it was built, whatever
  changed meanwhile, so a committed bike change shows in every list within that age plus one build. A bike
  change costs readers nothing: pages are not dropped per change, so under steady rent/finish traffic a
  process builds each page at most once per age window instead of after every change.
- The rider who made a change: read-your-writes. A successful write (any method but GET/HEAD/OPTIONS, by a
  valid token) notes its rider here at once, after its transaction committed and before the answer leaves,
  and announces the rider to the other web processes: `NOTIFY fleet_bike_changed, '<user id>'`, sent in
  autocommit on the request's connection (`core.notify`, never inside a write transaction). A rider
  noted at time t is only served pages built after t; their next read therefore goes through Django (which
  keeps the fresh page for everyone) wherever the gateway sends it. Every request reads the notifications
  pending on the connection first (one non-blocking look at its socket), which also keeps PostgreSQL's
  notification queue moving.

The remaining gap of read-your-writes is a notification still in flight to another process when the
rider's next request reaches it (delivery is asynchronous; on one host it takes well under the round trip of
the writer's answer and next request); the bench counts such reads (BENCHMARKS.md, S6). Whenever writers
cannot be followed (no LISTEN connection yet, database down), reads simply go through Django; a new LISTEN
connection drops every page, since announcements may have been missed.

Everything unusual goes through Django too: other methods and paths, a missing or refused token, a rider
whose deactivation the process has not checked lately, overdue reservations to expire (the expiry gate), and
any non-200 answer (never kept).
"""

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from core.authentication import decode_access_token, user_from_claims
from core.listener import NotificationListener
from core.notify import notify_on_commit
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
MAX_WRITERS = 10_000
RETRY_SECONDS = 5.0
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
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


def max_page_age() -> float:
    """`BIKE_LIST_MAX_AGE_SECONDS`; the older `BIKE_LIST_CACHE_SECONDS` still turns the cache off with 0 and
    can only lower the age (README, configuration)."""
    return min(settings.BIKE_LIST_MAX_AGE_SECONDS, settings.BIKE_LIST_CACHE_SECONDS)


class FleetChangeFeed:
    """The riders other web processes announced as having just written, over a LISTEN connection of this
    process's own; and the announcement of this process's writers to all of them."""

    def __init__(self, *, alias: str = "default") -> None:
        self._lock = threading.Lock()
        self._listener = NotificationListener(channel=CHANNEL, alias=alias)  # used under the lock only
        self._epoch = 0
        self._retry_at = 0.0

    def poll(self) -> tuple[int, list[str]] | None:
        """(epoch, writers announced since the last poll); None while announcements cannot be followed.
        The epoch moves whenever announcements may have been missed (a new LISTEN connection)."""
        # While one thread (re)connects, which may take up to the connect timeout, the others do not wait
        # for it: they are answered by Django meanwhile.
        if not self._lock.acquire(blocking=self._listener.listening):
            return None
        try:
            return self._poll_locked()
        finally:
            self._lock.release()

    def _poll_locked(self) -> tuple[int, list[str]] | None:
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
            self._epoch += 1
        # One non-blocking look at the socket (a connection the server closed turns it readable too).
        writers = self._listener.receive(0)
        if writers is None:
            self._retry_at = now + RETRY_SECONDS
            return None
        return self._epoch, writers

    def announce(self, user_id: str) -> None:
        """Tell every web process (this one included) that `user_id` has just written; call after the
        write committed. Sent on the calling thread's own connection in autocommit (core.notify), so no
        reader waits for it; should it fail, the other processes rely on their page age."""
        notify_on_commit(CHANNEL, user_id)

    def close(self) -> None:
        with self._lock:
            if self._listener.listening:
                self._listener.close()


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
        self._epoch: int | None = None
        # user id -> time.monotonic() when this process learned of their latest write (after its commit).
        self._writers: dict[str, float] = {}

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        max_age = max_page_age()
        if max_age <= 0:
            return self.app(environ, start_response)
        # Every request reads what was announced meanwhile, whatever it asks for: the connection's backend
        # can only move on in PostgreSQL's notification queue while this process reads its socket.
        polled = self.feed.poll()
        now = time.monotonic()
        if polled is not None:
            self._note(polled, now=now, max_age=max_age)
        method = environ.get("REQUEST_METHOD")
        if method not in SAFE_METHODS:
            return self._write(environ, start_response)
        if method != "GET" or environ.get("PATH_INFO") != PATH or polled is None:
            return self.app(environ, start_response)
        key = tuple(environ.get(name) for name in KEY_ENVIRON)
        with self._lock:
            page = self._pages.get(key)
        if page is not None and now - page.built_at < max_age:
            reader = self._reader(environ)
            if reader is not None and page.built_at > self._writers.get(reader, -1.0):
                return self._replay(page, environ, start_response)
        # Django answers (and refuses) as usual; a 200 is kept: the page does not depend on who asked.
        return self._build(key, now, environ, start_response)

    def _note(self, polled: tuple[int, list[str]], *, now: float, max_age: float) -> None:
        epoch, writers = polled
        with self._lock:
            if epoch != self._epoch:
                # A new LISTEN connection: writers announced while there was none are unknown.
                self._pages.clear()
                self._epoch = epoch
            if writers:
                if len(self._writers) + len(writers) > MAX_WRITERS:
                    # A rider noted longer ago than a page lives needs no note: every page is newer.
                    self._writers = {u: t for u, t in self._writers.items() if now - t < max_age}
                for user_id in writers:
                    self._writers[user_id] = now

    def _write(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"] = status
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        result = self.app(environ, capture)
        # The write's transaction has committed by now. Its rider is noted here at once and announced to the
        # other processes before the client sees the answer (read-your-writes, module docstring).
        if captured.get("status", "500")[:1] in "23":
            writer = self._token_user(environ)
            if writer is not None:
                with self._lock:
                    self._writers[str(writer)] = time.monotonic()
                self.feed.announce(str(writer))
        return result

    @staticmethod
    def _token_user(environ: dict) -> uuid.UUID | None:
        """The user id of a valid bearer token (the check of `JWTAuthentication`), else None."""
        header = environ.get("HTTP_AUTHORIZATION", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token or " " in token:
            return None
        try:
            return user_from_claims(decode_access_token(token)).id
        except AuthenticationFailed:
            return None

    def _reader(self, environ: dict) -> str | None:
        """The reader's user id when this process may answer them from memory; None sends the request to
        Django, which answers it (or refuses it) itself."""
        user_id = self._token_user(environ)
        if user_id is None:
            return None
        deactivated = deactivated_riders.known(user_id, max_age=settings.RIDER_STATUS_CACHE_SECONDS)
        if deactivated is not False or expiry_gate.is_due(now=clock.now()):
            return None
        return str(user_id)

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

    def _build(self, key, built_at, environ, start_response) -> Iterable[bytes]:
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
        # Built from what had committed by `built_at` (or later): kept unless a newer page is already there.
        with self._lock:
            kept = self._pages.get(key)
            if kept is None or kept.built_at < built_at:
                if kept is None and len(self._pages) >= MAX_PAGES:
                    self._pages.clear()
                self._pages[key] = page
        return [body]
