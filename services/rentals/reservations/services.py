"""Reservations: a rider's hold on a bike with an expiry.

Concurrency is the database's job: the bike row lock (`SELECT ... FOR UPDATE`) serializes everyone
acting on one bike, and the partial unique indexes `reservation_one_open_per_rider` /
`reservation_one_open_per_bike` catch whatever the lock cannot (one rider racing for two bikes).
Lock order is always bike(s) first, ordered by id, then reservation rows.

Expiry is exact: a reservation is over once `expires_at <= clock.now()`. Whoever touches the bike under
its lock closes an overdue reservation first (`_expire_locked`); the sweeper and the read-path
middleware close the rest with `SKIP LOCKED` (`reservations_expire_due`).
"""

import datetime as dt
import logging
import uuid

from core.exceptions import (
    ActiveRentalExists,
    BikeOutOfService,
    BikeUnavailable,
    Conflict,
    NotFound,
    PaymentRequired,
)
from django.conf import settings
from django.db import IntegrityError, transaction
from fleet.models import Bike, BikeCondition, BikeStatus
from outbox.services import outbox_emit
from rentals.models import Rental, RentalStatus
from vehicle_events.services import vehicle_event_record
from wallets.selectors import wallet_in_debt

from reservations import clock
from reservations.expiry_gate import expiry_gate
from reservations.models import Reservation, ReservationStatus

logger = logging.getLogger(__name__)


class ReservationExists(Conflict):
    slug = "conflict"
    title = "Reservation exists"


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def reservation_duration() -> dt.timedelta:
    return dt.timedelta(minutes=settings.RESERVATION_MINUTES)


def _record(*, bike: Bike, preferred: tuple[str, ...], timestamp: dt.datetime) -> None:
    vehicle_event_record(
        device_id=bike.id,
        status=bike.status,
        condition=bike.condition,
        preferred=preferred,
        lat=bike.lat,
        lon=bike.lon,
        timestamp=timestamp,
    )


def _expire_locked(*, reservation: Reservation, bike: Bike, now: dt.datetime) -> None:
    """Close an overdue open reservation; both rows are locked by the caller."""
    reservation.status = ReservationStatus.EXPIRED
    reservation.ended_at = now
    reservation.save(update_fields=["status", "ended_at"])
    if bike.status == BikeStatus.RESERVED:
        bike.status = BikeStatus.AVAILABLE
        bike.save(update_fields=["status", "updated_at"])
        # MDS has no expiry of its own: a reservation that ran out is a reservation_cancel.
        _record(bike=bike, preferred=("reservation_cancel",), timestamp=now)
    outbox_emit(
        event_type="reservation.expired",
        data={
            "reservation_id": str(reservation.id),
            "user_id": str(reservation.user_id),
            "bike_id": str(reservation.bike_id),
            "expires_at": _iso(reservation.expires_at),
        },
    )


def _emit_released(*, reservation: Reservation, reason: str) -> None:
    outbox_emit(
        event_type="reservation.released",
        data={
            "reservation_id": str(reservation.id),
            "user_id": str(reservation.user_id),
            "bike_id": str(reservation.bike_id),
            "released_at": _iso(reservation.ended_at),
            "reason": reason,
        },
    )


def reservation_settle_locked_bike(*, bike: Bike, now: dt.datetime | None = None) -> Reservation | None:
    """Call with the bike row locked. Expires the bike's open reservation if it is overdue and returns
    the reservation that is still live (locked), or None."""
    reservation = (
        Reservation.objects.select_for_update().filter(bike=bike, status=ReservationStatus.OPEN).first()
    )
    if reservation is None:
        return None
    now = now or clock.now()
    if reservation.expires_at <= now:
        _expire_locked(reservation=reservation, bike=bike, now=now)
        return None
    return reservation


def reservation_claim_for_rent(*, bike: Bike, user_id: uuid.UUID) -> Reservation | None:
    """Renting hook (bike locked by rentals.services.rental_start). A live reservation lets only its
    holder through; an overdue one is expired first and never blocks. Returns the holder's reservation,
    which the caller consumes once the rental exists."""
    if bike.status != BikeStatus.RESERVED:
        return None
    reservation = reservation_settle_locked_bike(bike=bike)
    if reservation is None:
        return None  # expired just now (bike back to available) or a reserved bike without a reservation
    if reservation.user_id != user_id:
        raise BikeUnavailable("The bike is reserved by another rider.")
    return reservation


def reservation_consume(*, reservation: Reservation, rental: Rental) -> Reservation:
    """The holder rented the bike: same transaction as the rental."""
    reservation.status = ReservationStatus.CONSUMED
    reservation.ended_at = rental.started_at
    reservation.rental = rental
    reservation.save(update_fields=["status", "ended_at", "rental"])
    _emit_released(reservation=reservation, reason="rented")
    return reservation


def _lock_bikes(bike_ids: set[uuid.UUID]) -> dict[uuid.UUID, Bike]:
    # Ordered by id so two transactions locking the same pair never deadlock.
    return {bike.id: bike for bike in Bike.objects.select_for_update().filter(id__in=bike_ids).order_by("id")}


@transaction.atomic
def reservation_create(*, user_id: uuid.UUID, bike_id: uuid.UUID) -> Reservation:
    if wallet_in_debt(user_id=user_id):
        raise PaymentRequired("Your wallet balance is negative; top it up before reserving.")
    now = clock.now()
    # The rider's own overdue reservation (on any bike) must not block them: lock its bike too.
    previous = Reservation.objects.filter(user_id=user_id, status=ReservationStatus.OPEN).first()
    bike_ids = {bike_id}
    if previous is not None and previous.expires_at <= now:
        bike_ids.add(previous.bike_id)
    bikes = _lock_bikes(bike_ids)
    bike = bikes.get(bike_id)
    if bike is None:
        raise NotFound("Bike not found.")
    for locked in bikes.values():
        reservation_settle_locked_bike(bike=locked, now=now)
    if Rental.objects.filter(user_id=user_id, status=RentalStatus.ACTIVE).exists():
        raise ActiveRentalExists("You already have an active rental.")
    if Reservation.objects.filter(user_id=user_id, status=ReservationStatus.OPEN).exists():
        raise ReservationExists("You already have an open reservation.")
    if bike.condition != BikeCondition.OK:
        raise BikeOutOfService(f"The bike is out of service ({bike.condition}).")
    if bike.status != BikeStatus.AVAILABLE:
        raise BikeUnavailable(f"The bike is {bike.status}.")
    try:
        with transaction.atomic():
            reservation = Reservation.objects.create(
                user_id=user_id,
                bike=bike,
                status=ReservationStatus.OPEN,
                created_at=now,
                expires_at=now + reservation_duration(),
            )
    except IntegrityError as exc:
        if "reservation_one_open_per_rider" in str(exc):
            raise ReservationExists("You already have an open reservation.")
        if "reservation_one_open_per_bike" in str(exc):
            raise BikeUnavailable("The bike is already reserved.")
        raise
    bike.status = BikeStatus.RESERVED
    bike.save(update_fields=["status", "updated_at"])
    _record(bike=bike, preferred=("reservation_start",), timestamp=now)
    expiry_gate.note_due(expires_at=reservation.expires_at)
    outbox_emit(
        event_type="reservation.created",
        data={
            "reservation_id": str(reservation.id),
            "user_id": str(user_id),
            "bike_id": str(bike.id),
            "created_at": _iso(reservation.created_at),
            "expires_at": _iso(reservation.expires_at),
        },
    )
    return reservation


@transaction.atomic
def reservation_cancel(*, user_id: uuid.UUID, bike_id: uuid.UUID) -> Reservation | None:
    """Release the rider's live reservation of this bike. Returns None when there is none to release
    (unknown bike, another rider's, already over); an overdue one found here is expired and committed,
    so the caller answers 404 without raising inside this transaction."""
    bike = Bike.objects.select_for_update().filter(id=bike_id).first()
    if bike is None:
        return None
    reservation = reservation_settle_locked_bike(bike=bike)
    if reservation is None or reservation.user_id != user_id:
        return None
    reservation.status = ReservationStatus.CANCELLED
    reservation.ended_at = clock.now()
    reservation.save(update_fields=["status", "ended_at"])
    bike.status = BikeStatus.AVAILABLE
    bike.save(update_fields=["status", "updated_at"])
    _record(bike=bike, preferred=("reservation_cancel",), timestamp=reservation.ended_at)
    _emit_released(reservation=reservation, reason="cancelled")
    return reservation


@transaction.atomic
def reservations_expire_due(*, limit: int | None = None, now: dt.datetime | None = None) -> int:
    """Expire overdue open reservations without waiting on anyone: rows (bike and reservation) locked by
    another transaction are skipped; that transaction settles them itself or a later pass does.
    Returns how many were expired."""
    now = now or clock.now()
    limit = limit or settings.RESERVATION_SWEEP_BATCH_SIZE
    due = list(
        Reservation.objects.select_for_update(skip_locked=True, of=("self", "bike"))
        .select_related("bike")
        .filter(status=ReservationStatus.OPEN, expires_at__lte=now)
        .order_by("expires_at")[:limit]
    )
    for reservation in due:
        _expire_locked(reservation=reservation, bike=reservation.bike, now=now)
    if due:
        logger.info("reservations expired", extra={"count": len(due)})
    return len(due)
