import threading
import time
import uuid

from django.conf import settings

from riders import queries
from riders.models import Rider


class DeactivatedRiders:
    """This process's copy of the deactivated riders' ids, reloaded at most every
    `RIDER_STATUS_CACHE_SECONDS` (one small query instead of one per request). Only reads use it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids: frozenset[uuid.UUID] = frozenset()
        self._loaded_at: float | None = None

    def contains(self, user_id: uuid.UUID, *, max_age: float) -> bool:
        with self._lock:
            stale = self._loaded_at is None or time.monotonic() - self._loaded_at >= max_age
        if stale:
            ids = frozenset(Rider.objects.filter(is_deactivated=True).values_list("user_id", flat=True))
            with self._lock:
                self._ids, self._loaded_at = ids, time.monotonic()
        return user_id in self._ids

    def known(self, user_id: uuid.UUID, *, max_age: float) -> bool | None:
        """Like `contains` without touching the database: None when the copy is older than `max_age`."""
        with self._lock:
            if self._loaded_at is None or time.monotonic() - self._loaded_at >= max_age:
                return None
            return user_id in self._ids

    def reset(self) -> None:
        with self._lock:
            self._ids, self._loaded_at = frozenset(), None


deactivated_riders = DeactivatedRiders()


def rider_is_deactivated(*, user_id: uuid.UUID, for_write: bool = True) -> bool:
    """Writes always ask the database; reads may use the process's copy, so a deactivation reaches
    reads within `RIDER_STATUS_CACHE_SECONDS` (0 turns the copy off)."""
    max_age = settings.RIDER_STATUS_CACHE_SECONDS
    if for_write or max_age <= 0:
        return queries.is_deactivated(user_id=user_id)
    return deactivated_riders.contains(user_id, max_age=max_age)
