"""Rate limits enforced in PostgreSQL, so every web worker process and thread shares the same counters.

An attempt is reserved *before* it is evaluated (atomic UPSERT … RETURNING count); there is no
check-then-act window. Callers refund the reservation when an attempt should not count (a successful
login), so only failures use up the budget.
"""

import hashlib
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection

from core.exceptions import RateLimited
from core.models import RateLimitCounter

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
