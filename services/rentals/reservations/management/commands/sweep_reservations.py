import logging
import signal
import time

from core.amqp import StopFlag
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections

from reservations.services import reservations_expire_due

logger = logging.getLogger(__name__)


def sweep_once(*, batch_size: int) -> int:
    """Expire every overdue reservation, batch by batch (each batch its own short transaction)."""
    total = 0
    while True:
        expired = reservations_expire_due(limit=batch_size)
        total += expired
        if expired < batch_size:
            return total


class Command(BaseCommand):
    help = (
        "Expire overdue reservations (bike back to available, reservation.expired event) every "
        "RESERVATION_SWEEP_SECONDS until SIGTERM/SIGINT; --once for a single pass."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Sweep once and exit.")
        parser.add_argument(
            "--interval", type=float, default=None, help="Seconds between passes (RESERVATION_SWEEP_SECONDS)."
        )

    def handle(self, *args, once: bool = False, interval: float | None = None, **options):
        batch_size = settings.RESERVATION_SWEEP_BATCH_SIZE
        if once:
            expired = sweep_once(batch_size=batch_size)
            self.stdout.write(f"expired {expired} reservation(s)")
            return
        stop = StopFlag()
        signal.signal(signal.SIGTERM, stop.stop)
        signal.signal(signal.SIGINT, stop.stop)
        if interval is None or interval <= 0:
            interval = settings.RESERVATION_SWEEP_SECONDS
        logger.info("reservation sweeper started", extra={"interval_seconds": interval})
        while not stop.stopping:
            close_old_connections()
            try:
                sweep_once(batch_size=batch_size)
            except DatabaseError:
                # PostgreSQL restarting or unreachable: drop the connection and try again next tick.
                logger.warning("reservation sweep failed; retrying", exc_info=True)
                from django.db import connection

                connection.close()
            deadline = time.monotonic() + interval
            while not stop.stopping and time.monotonic() < deadline:
                time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
        logger.info("reservation sweeper stopped")
