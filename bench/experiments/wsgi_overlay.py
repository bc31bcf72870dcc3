"""Experiment overlay (bench only, never deployed): the rentals WSGI app with proposed fixes switched on
by environment variables, so BENCHMARKS.md can show before/after before anyone edits service code.

BENCH_CACHED_RIDER=1          the per-request "is this rider deactivated?" query (riders/selectors.py)
                              becomes a lookup in an in-process set of deactivated riders refreshed at
                              most every BENCH_RIDER_CACHE_SECONDS (5 s).
BENCH_EXPIRY_EVERY_SECONDS=N  the lazy reservation expiry that reservations/middleware.py runs before
                              every bike/station read (BEGIN + SELECT ... FOR UPDATE SKIP LOCKED + COMMIT)
                              runs at most once per N seconds per process.
"""

import os
import threading
import time

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()

import reservations.middleware  # noqa: E402
import riders.selectors  # noqa: E402
from riders.models import Rider  # noqa: E402

_lock = threading.Lock()

if os.environ.get("BENCH_CACHED_RIDER") == "1":
    _TTL = float(os.environ.get("BENCH_RIDER_CACHE_SECONDS", "5"))
    _state: dict = {"at": float("-inf"), "ids": frozenset()}

    def rider_is_deactivated(*, user_id) -> bool:
        now = time.monotonic()
        if now - _state["at"] > _TTL:
            with _lock:
                if now - _state["at"] > _TTL:
                    _state["ids"] = frozenset(
                        Rider.objects.filter(is_deactivated=True).values_list("user_id", flat=True)
                    )
                    _state["at"] = now
        return user_id in _state["ids"]

    riders.selectors.rider_is_deactivated = rider_is_deactivated

_EVERY = float(os.environ.get("BENCH_EXPIRY_EVERY_SECONDS", "0") or 0)
if _EVERY > 0:
    _expire = reservations.middleware.reservations_expire_due
    _last = {"at": float("-inf")}

    def reservations_expire_due(**kwargs) -> int:
        now = time.monotonic()
        with _lock:
            if now - _last["at"] < _EVERY:
                return 0
            _last["at"] = now
        return _expire(**kwargs)

    reservations.middleware.reservations_expire_due = reservations_expire_due
