import logging

from django.db import DatabaseError

from reservations.services import reservations_expire_due

logger = logging.getLogger(__name__)

# API reads that show bike status (bike list and detail, station counts). GBFS is left out: its feeds
# are cached per ttl window (status ttl <= 60 s) and must stay within a fixed query budget, so it shows
# an expiry once the sweeper (every RESERVATION_SWEEP_SECONDS) has run and the window has turned.
BIKE_STATUS_PATHS = ("/api/bikes", "/api/stations")


class ExpireDueReservationsMiddleware:
    """Lazy expiry on read: before a request that shows bike status, overdue reservations are expired
    in one short transaction (`SKIP LOCKED`, so a read never waits on a writer). With nothing due this
    is one index probe of `reservation_due_idx`. The sweeper does the same periodically for bikes
    nobody looks at, so events are emitted promptly either way."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in ("GET", "HEAD") and request.path.startswith(BIKE_STATUS_PATHS):
            try:
                reservations_expire_due()
            except DatabaseError:
                # The read itself will report the database problem; expiry is retried on the next one.
                logger.warning("lazy reservation expiry failed", exc_info=True)
        return self.get_response(request)
