import logging

from django.db import DatabaseError

from reservations import clock
from reservations.expiry_gate import expiry_gate
from reservations.selectors import reservation_next_due
from reservations.services import reservation_duration, reservations_expire_due

logger = logging.getLogger(__name__)

# API reads that show bike status (bike list and detail, station counts). GBFS is left out: its feeds
# are cached per ttl window (status ttl <= 60 s) and must stay within a fixed query budget, so it shows
# an expiry once the sweeper (every RESERVATION_SWEEP_SECONDS) has run and the window has turned.
BIKE_STATUS_PATHS = ("/api/bikes", "/api/stations")


class ExpireDueReservationsMiddleware:
    """Lazy expiry on read: before a request that shows bike status, overdue reservations are expired
    in one short transaction (`SKIP LOCKED`, so a read never waits on a writer). The process-wide
    `expiry_gate` knows when the next reservation can fall due, so almost every read skips the check;
    expiry stays exact. The sweeper does the same periodically for bikes nobody looks at, so events
    are emitted promptly either way."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in ("GET", "HEAD") and request.path.startswith(BIKE_STATUS_PATHS):
            now = clock.now()
            if expiry_gate.is_due(now=now):
                try:
                    reservations_expire_due(now=now)
                    expiry_gate.checked(
                        now=now, earliest_due=reservation_next_due(), duration=reservation_duration()
                    )
                except DatabaseError:
                    # The read itself will report the database problem; the gate stays open.
                    logger.warning("lazy reservation expiry failed", exc_info=True)
        return self.get_response(request)
