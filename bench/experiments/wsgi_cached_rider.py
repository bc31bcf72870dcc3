"""Experiment overlay (bench only, never deployed): the rentals WSGI app with the per-request
"is this rider deactivated?" query replaced by an in-process set of deactivated riders refreshed at
most every BENCH_RIDER_CACHE_SECONDS (5 s). This is the change BENCHMARKS.md proposes for
services/rentals/riders/selectors.py; run it to measure the proposal before it is made."""

import os
import threading
import time

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()

import riders.selectors  # noqa: E402
from riders.models import Rider  # noqa: E402

_TTL = float(os.environ.get("BENCH_RIDER_CACHE_SECONDS", "5"))
_lock = threading.Lock()
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
