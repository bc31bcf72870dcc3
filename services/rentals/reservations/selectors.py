import datetime as dt
import uuid

from core.exceptions import NotFound

from reservations import clock
from reservations.models import Reservation, ReservationStatus


def reservation_active(*, user_id: uuid.UUID) -> Reservation:
    """The rider's live reservation. An overdue one is already over for the rider, swept or not."""
    reservation = Reservation.objects.filter(
        user_id=user_id, status=ReservationStatus.OPEN, expires_at__gt=clock.now()
    ).first()
    if reservation is None:
        raise NotFound("No active reservation.")
    return reservation


def reservation_next_due() -> dt.datetime | None:
    """When the earliest open reservation falls due (possibly already past), from `reservation_due_idx`."""
    return (
        Reservation.objects.filter(status=ReservationStatus.OPEN)
        .order_by("expires_at")
        .values_list("expires_at", flat=True)
        .first()
    )
