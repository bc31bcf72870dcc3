"""Rate limits enforced in PostgreSQL, so every web worker process and thread shares the same counters.

Two kinds, both claimed *before* the attempt is evaluated with one atomic UPSERT (no check-then-act):
- fixed windows (`rate_limit_reserve`): at most `limit` attempts of a key per window; callers refund
  the reservation when an attempt should not count (a successful login), so only failures use it up;
- growing delays (`throttle_claim`): each claim counts as a failure of the key and, past a number of
  free failures, sets a doubling wait before the next claim may succeed; `throttle_clear` after a
  success forgets the key. Concurrent claims of one key are serialised by its row lock.
"""

import hashlib
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection

from core.exceptions import RateLimited
from core.models import FailureThrottle, RateLimitCounter

_UPSERT = f"""
INSERT INTO {RateLimitCounter._meta.db_table} (scope, key_hash, window_start, count)
VALUES (%s, %s, %s, 1)
ON CONFLICT (scope, key_hash, window_start)
DO UPDATE SET count = {RateLimitCounter._meta.db_table}.count + 1
RETURNING count
"""  # noqa: S608  (table name is a constant, values are parameters)

_REFUND = f"""
UPDATE {RateLimitCounter._meta.db_table} SET count = GREATEST(count - 1, 0)
WHERE scope = %s AND key_hash = %s AND window_start = %s
"""  # noqa: S608


_THROTTLE = FailureThrottle._meta.db_table
# The new failure count is written out twice (SET cannot read a sibling assignment); the WHERE makes a
# claim during a delay change nothing and return no row.
_NEW_FAILURES = "(CASE WHEN t.last_failure_at < %(reset_before)s THEN 1 ELSE t.failures + 1 END)"
# A free failure sets no wait at all (the epoch), not "now": concurrent claims take `now` in their own
# threads, and a free claim whose clock read came a moment before another's must still pass.
_NEXT_ALLOWED_AT = (
    "(CASE WHEN {f} <= %(free)s THEN 'epoch'::timestamptz ELSE %(now)s + make_interval(secs => "
    "LEAST(%(max)s, %(base)s * power(2, LEAST({f} - %(free)s - 1, 30)))) END)"
)
_CLAIM = f"""
INSERT INTO {_THROTTLE} AS t (scope, key_hash, failures, last_failure_at, next_allowed_at)
VALUES (%(scope)s, %(key)s, 1, %(now)s, {_NEXT_ALLOWED_AT.format(f="1")})
ON CONFLICT (scope, key_hash) DO UPDATE SET
    failures = {_NEW_FAILURES},
    last_failure_at = %(now)s,
    next_allowed_at = {_NEXT_ALLOWED_AT.format(f=_NEW_FAILURES)}
WHERE t.next_allowed_at <= %(now)s
RETURNING t.failures
"""  # noqa: S608  (table name is a constant, values are parameters)

_NEXT_ALLOWED = f"SELECT next_allowed_at FROM {_THROTTLE} WHERE scope = %s AND key_hash = %s"  # noqa: S608
_CLEAR = f"DELETE FROM {_THROTTLE} WHERE scope = %s AND key_hash = %s"  # noqa: S608


@dataclass(frozen=True)
class Reservation:
    scope: str
    key_hash: str
    window_start: datetime


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _window(*, now: datetime, window_seconds: int) -> tuple[datetime, datetime]:
    epoch = int(now.timestamp())
    start_epoch = epoch - epoch % window_seconds
    start = datetime.fromtimestamp(start_epoch, tz=UTC)
    return start, start + timedelta(seconds=window_seconds)


def rate_limit_reserve(
    *, scope: str, key: str, limit: int, window_seconds: int, now: datetime | None = None
) -> Reservation:
    """Count one attempt; raise RateLimited (with Retry-After) once the window's budget is exceeded."""
    now = now or datetime.now(tz=UTC)
    start, end = _window(now=now, window_seconds=window_seconds)
    reservation = Reservation(scope=scope, key_hash=_key_hash(key), window_start=start)
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT, [scope, reservation.key_hash, start])
        (count,) = cursor.fetchone()
    if random.random() < 0.01:  # occasional cleanup of old windows
        RateLimitCounter.objects.filter(window_start__lt=now - timedelta(days=1)).delete()
    if count > limit:
        raise RateLimited(retry_after=math.ceil((end - now).total_seconds()))
    return reservation


def rate_limit_refund(*, reservation: Reservation) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_REFUND, [reservation.scope, reservation.key_hash, reservation.window_start])


@dataclass(frozen=True)
class ThrottlePolicy:
    free_failures: int
    base_delay_seconds: int
    max_delay_seconds: int
    reset_after_seconds: int


def throttle_claim(*, scope: str, key: str, policy: ThrottlePolicy, now: datetime | None = None) -> int:
    """Count one attempt of `key` as a failure; raise RateLimited while the key's delay runs.

    Returns the key's failure count including this attempt. Call throttle_clear once it succeeded.
    """
    now = now or datetime.now(tz=UTC)
    key_hash = _key_hash(key)
    params = {
        "scope": scope,
        "key": key_hash,
        "now": now,
        "reset_before": now - timedelta(seconds=policy.reset_after_seconds),
        "free": policy.free_failures,
        "base": policy.base_delay_seconds,
        "max": policy.max_delay_seconds,
    }
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM, params)
        row = cursor.fetchone()
        if row is None:
            cursor.execute(_NEXT_ALLOWED, [scope, key_hash])
            found = cursor.fetchone()
    if random.random() < 0.01:  # occasional cleanup of keys whose failures are forgotten anyway
        FailureThrottle.objects.filter(
            last_failure_at__lt=now - timedelta(seconds=max(policy.reset_after_seconds, 86_400)),
            next_allowed_at__lt=now,
        ).delete()
    if row is None:
        wait = (found[0] - now).total_seconds() if found else 1
        raise RateLimited(retry_after=math.ceil(wait))
    return row[0]


def throttle_clear(*, scope: str, key: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_CLEAR, [scope, _key_hash(key)])
