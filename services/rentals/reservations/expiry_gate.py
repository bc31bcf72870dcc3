"""When this process next has to look for overdue reservations on the read path.

Every reservation lasts `reservation_duration()` from its creation, so one that does not exist yet cannot
fall due before `now + duration`. After a check the gate therefore stays shut until the earliest open
reservation falls due or half a duration has passed (the half covers a reservation whose transaction was
still open during the check), whichever comes first; a reservation created in this process opens the gate
at its own expiry. Reads of bike status then cost no extra round trip at all except about once per
reservation expiry, instead of a locking transaction per request."""

import datetime as dt
import threading


class ExpiryGate:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next_check: dt.datetime | None = None

    def is_due(self, *, now: dt.datetime) -> bool:
        with self._lock:
            return self._next_check is None or now >= self._next_check

    def checked(self, *, now: dt.datetime, earliest_due: dt.datetime | None, duration: dt.timedelta) -> None:
        """Record a completed check made at `now` that saw `earliest_due` as the first open expiry."""
        candidates = [now + duration / 2]
        if earliest_due is not None:
            candidates.append(earliest_due)
        with self._lock:
            self._next_check = min(candidates)

    def note_due(self, *, expires_at: dt.datetime) -> None:
        """A reservation made here falls due at `expires_at`: check no later than that."""
        with self._lock:
            if self._next_check is not None and expires_at < self._next_check:
                self._next_check = expires_at

    def reset(self) -> None:
        with self._lock:
            self._next_check = None


expiry_gate = ExpiryGate()
