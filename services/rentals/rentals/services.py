import datetime as dt
import logging
import uuid

from core.exceptions import (
    ActiveRentalExists,
    ApplicationError,
    BikeUnavailable,
    Conflict,
    NotFound,
    PaymentRequired,
    ValidationFailed,
)
from django.db import IntegrityError, transaction
from django.utils import timezone
from fleet.models import Bike, BikeStatus, Station
from fleet.selectors import tariff_in_force
from outbox.models import OutboxEvent
from outbox.services import outbox_emit
from reservations.models import Reservation
from reservations.services import reservation_claim_for_rent, reservation_consume
from wallets.selectors import wallet_in_debt
from wallets.services import wallet_charge_rental

from rentals.models import Rental, RentalStatus

logger = logging.getLogger(__name__)


class InvoiceRejected(Exception):
    """An invoice.issued event that can never be applied (unknown rental, wrong rider, ...)."""


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _ensure_bike_rentable(*, bike: Bike, user_id: uuid.UUID) -> Reservation | None:
    """Call with the bike locked. A reserved bike is rentable only by the reservation's holder (returned,
    to be consumed with the rental); an overdue reservation is expired here first and never blocks."""
    reservation = reservation_claim_for_rent(bike=bike, user_id=user_id)
    if reservation is None and bike.status != BikeStatus.AVAILABLE:
        raise BikeUnavailable(f"The bike is {bike.status}.")
    return reservation


@transaction.atomic
def rental_start(*, user_id: uuid.UUID, user_email: str, user_name: str, bike_id: uuid.UUID) -> Rental:
    """One active rental per rider and per bike: the bike row lock serializes riders racing for one
    bike, the partial unique indexes catch one rider racing for several bikes."""
    if not user_email:
        raise ApplicationError("The access token carries no e-mail address; sign in again.")
    if wallet_in_debt(user_id=user_id):
        raise PaymentRequired("Your wallet balance is negative; top it up before renting.")
    bike = Bike.objects.select_for_update().filter(id=bike_id).first()
    if bike is None:
        raise NotFound("Bike not found.")
    if Rental.objects.filter(user_id=user_id, status=RentalStatus.ACTIVE).exists():
        raise ActiveRentalExists("You already have an active rental.")
    reservation = _ensure_bike_rentable(bike=bike, user_id=user_id)
    now = timezone.now()
    tariff = tariff_in_force(at=now)
    if tariff is None:
        raise Conflict("No tariff is in force; renting is not possible right now.")
    # No savepoint around the insert: a unique violation ends this request, and the transaction with it.
    try:
        rental = Rental.objects.create(
            user_id=user_id,
            user_email=user_email,
            user_name=user_name,
            bike=bike,
            bike_number=bike.number,
            status=RentalStatus.ACTIVE,
            started_at=now,
            start_station_id=bike.station_id,
            tariff=tariff,
            tariff_snapshot=tariff.snapshot(),
        )
    except IntegrityError as exc:
        if "rental_one_active_per_rider" in str(exc):
            raise ActiveRentalExists("You already have an active rental.")
        if "rental_one_active_per_bike" in str(exc):
            raise BikeUnavailable("The bike is already rented.")
        raise
    if reservation is not None:
        reservation_consume(reservation=reservation, rental=rental)
    bike.status = BikeStatus.RENTED
    bike.station = None
    bike.save(update_fields=["status", "station", "updated_at"])
    outbox_emit(
        event_type="rental.started",
        data={
            "rental_id": str(rental.id),
            "user_id": str(user_id),
            "bike_id": str(bike.id),
            "bike_number": bike.number,
            "started_at": _iso(rental.started_at),
            "start_station_id": str(rental.start_station_id) if rental.start_station_id else None,
            "tariff": rental.tariff_snapshot,
        },
    )
    return rental


def rental_finished_event_data(*, rental: Rental) -> dict:
    return {
        "rental_id": str(rental.id),
        "user_id": str(rental.user_id),
        "user_email": rental.user_email,
        "user_name": rental.user_name,
        "bike_id": str(rental.bike_id),
        "bike_number": rental.bike_number,
        "started_at": _iso(rental.started_at),
        "ended_at": _iso(rental.ended_at),
        "duration_seconds": rental.duration_seconds,
        "start_station_id": str(rental.start_station_id) if rental.start_station_id else None,
        "end_station_id": str(rental.end_station_id) if rental.end_station_id else None,
        "tariff": rental.tariff_snapshot,
    }


@transaction.atomic
def rental_finish(*, user_id: uuid.UUID, rental_id: uuid.UUID, station_id: uuid.UUID | None = None) -> Rental:
    """Idempotent: finishing a finished rental returns it unchanged."""
    rental = Rental.objects.select_for_update().filter(id=rental_id, user_id=user_id).first()
    if rental is None:
        raise NotFound("Rental not found.")
    if rental.status == RentalStatus.FINISHED:
        return rental
    station = None
    if station_id is not None:
        station = Station.objects.filter(id=station_id, is_active=True).first()
        if station is None:
            raise ValidationFailed("Unknown station.", errors={"station_id": ["Unknown or retired station."]})
    bike = Bike.objects.select_for_update().get(id=rental.bike_id)
    now = timezone.now()
    rental.status = RentalStatus.FINISHED
    rental.ended_at = now
    rental.duration_seconds = max(0, int((now - rental.started_at).total_seconds()))
    rental.end_station = station
    rental.save(update_fields=["status", "ended_at", "duration_seconds", "end_station"])
    bike.status = BikeStatus.AVAILABLE
    bike.station = station
    if station is not None:
        bike.lat, bike.lon = station.lat, station.lon
    bike.last_rental_id = rental.id
    bike.save(update_fields=["status", "station", "lat", "lon", "last_rental_id", "updated_at"])
    outbox_emit(event_type="rental.finished", data=rental_finished_event_data(rental=rental))
    return rental


@transaction.atomic
def rental_apply_invoice(
    *,
    rental_id: uuid.UUID,
    user_id: uuid.UUID,
    invoice_id: uuid.UUID,
    amount: int,
    currency: str,
    s3_key: str,
    invoice_number: str = "",
) -> bool:
    """Apply billing's invoice once per rental (row lock + ledger (kind, reference) uniqueness).
    Returns False when the rental was already billed.

    The common case is one UPDATE that takes the row lock and checks that the rental is this rider's,
    finished and not billed yet; only when it matches nothing does a locked read tell why."""
    billed_at = timezone.now()
    with transaction.get_connection().cursor() as cursor:
        cursor.execute(
            "UPDATE rentals_rental SET cost_amount = %s, cost_currency = %s, invoice_id = %s, "
            "invoice_s3_key = %s, billed_at = %s "
            "WHERE id = %s AND user_id = %s AND status = %s AND invoice_id IS NULL",
            [amount, currency, invoice_id, s3_key, billed_at, rental_id, user_id, RentalStatus.FINISHED],
        )
        updated = cursor.rowcount == 1
    if not updated:
        rental = Rental.objects.select_for_update().filter(id=rental_id).first()
        if rental is None:
            raise InvoiceRejected(f"unknown rental {rental_id}")
        if rental.user_id != user_id:
            raise InvoiceRejected(f"rental {rental_id} does not belong to {user_id}")
        if rental.status != RentalStatus.FINISHED:
            raise InvoiceRejected(f"rental {rental_id} is not finished")
        if rental.invoice_id is not None:
            if rental.invoice_id != invoice_id:
                logger.warning(
                    "second invoice for a billed rental ignored",
                    extra={"rental_id": str(rental_id), "invoice_id": str(invoice_id)},
                )
            return False
        rental.cost_amount = amount
        rental.cost_currency = currency
        rental.invoice_id = invoice_id
        rental.invoice_s3_key = s3_key
        rental.billed_at = billed_at
        rental.save(
            update_fields=["cost_amount", "cost_currency", "invoice_id", "invoice_s3_key", "billed_at"]
        )
    try:
        wallet_charge_rental(
            user_id=user_id,
            rental_id=rental_id,
            amount=amount,
            currency=currency,
            invoice_number=invoice_number,
        )
    except ValidationFailed as exc:
        raise InvoiceRejected(str(exc.errors or exc.detail)) from exc
    return True


@transaction.atomic
def rentals_reemit_unbilled(*, older_than_seconds: int) -> int:
    """Answer billing's reconciliation request: fresh rental.finished events for unbilled rentals.
    Rentals whose rental.finished still waits in the outbox are skipped (the relay will deliver it)."""
    cutoff = timezone.now() - dt.timedelta(seconds=older_than_seconds)
    rentals = Rental.objects.filter(
        status=RentalStatus.FINISHED, invoice_id__isnull=True, ended_at__lte=cutoff
    ).order_by("ended_at")
    pending = set(
        OutboxEvent.objects.filter(published_at__isnull=True, event_type="rental.finished").values_list(
            "payload__data__rental_id", flat=True
        )
    )
    count = 0
    for rental in rentals.iterator(chunk_size=500):
        if str(rental.id) in pending:
            continue
        outbox_emit(event_type="rental.finished", data=rental_finished_event_data(rental=rental))
        count += 1
    return count
