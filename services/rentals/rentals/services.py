import datetime as dt
import json
import logging
import uuid

from core.exceptions import (
    ActiveRentalExists,
    ApplicationError,
    BikeOutOfService,
    BikeUnavailable,
    Conflict,
    NotFound,
    ParkingNotAllowed,
    PaymentRequired,
    ValidationFailed,
)
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from fleet.models import Bike, BikeCondition, BikeStatus
from outbox.models import OutboxEvent
from outbox.services import outbox_emit
from reservations.models import Reservation
from reservations.services import reservation_claim_for_rent, reservation_consume
from vehicle_events.services import vehicle_event_record
from wallets.selectors import wallet_in_debt
from wallets.services import wallet_charge_rental
from zones.selectors import nearest_station, no_parking_zone_at

from rentals import queries
from rentals.costs import tariff_snapshot_cost
from rentals.models import Rental, RentalStatus

logger = logging.getLogger(__name__)


class InvoiceRejected(Exception):
    """An invoice.issued event that can never be applied (unknown rental, wrong rider, ...)."""


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _as_json(value):
    # Django hands json columns of a raw cursor over undecoded (JSONField decodes them itself).
    return json.loads(value) if isinstance(value, str | bytes) else value


def _ensure_bike_rentable(
    *, cursor, bike_id: uuid.UUID, bike_status: str, user_id: uuid.UUID
) -> Reservation | None:
    """Call with the bike locked. A reserved bike is rentable only by the reservation's holder (returned,
    to be consumed with the rental); an overdue reservation is expired here first and never blocks."""
    if bike_status == BikeStatus.AVAILABLE:
        return None
    # Rare paths. The active-rental answer above was read before any wait for the bike's lock; ask again
    # so a rider racing themself still hears "active rental" before "bike unavailable", as they would
    # had the check run after the lock.
    cursor.execute(queries.ACTIVE_RENTAL_EXISTS, [user_id])
    if cursor.fetchone()[0]:
        raise ActiveRentalExists("You already have an active rental.")
    bike = Bike.objects.get(id=bike_id)  # already locked by queries.RENT_CHECK
    reservation = reservation_claim_for_rent(bike=bike, user_id=user_id)
    # An overdue reservation expired just now left the bike available.
    if reservation is None and bike.status != BikeStatus.AVAILABLE:
        raise BikeUnavailable(f"The bike is {bike.status}.")
    return reservation


@transaction.atomic
def rental_start(*, user_id: uuid.UUID, user_email: str, user_name: str, bike_id: uuid.UUID) -> Rental:
    """One active rental per rider and per bike: the bike row lock serializes riders racing for one
    bike, the partial unique indexes catch one rider racing for several bikes."""
    if not user_email:
        raise ApplicationError("The access token carries no e-mail address; sign in again.")
    now = timezone.now()
    with connection.cursor() as cursor:
        bike = queries.rent_check(cursor=cursor, user_id=user_id, bike_id=bike_id, now=now)
        if bike is None:
            if wallet_in_debt(user_id=user_id):
                raise PaymentRequired("Your wallet balance is negative; top it up before renting.")
            raise NotFound("Bike not found.")
        # Under the bike's row lock, which condition changes take too: never rented once reported unsafe.
        # First, since it holds for every rider alike.
        if bike.condition != BikeCondition.OK:
            raise BikeOutOfService(f"The bike is out of service ({bike.condition}).")
        if bike.in_debt:
            raise PaymentRequired("Your wallet balance is negative; top it up before renting.")
        if bike.has_active:
            raise ActiveRentalExists("You already have an active rental.")
        reservation = _ensure_bike_rentable(
            cursor=cursor, bike_id=bike_id, bike_status=bike.status, user_id=user_id
        )
        if bike.tariff_snapshot is None:
            raise Conflict("No tariff is in force; renting is not possible right now.")
        tariff_snapshot = _as_json(bike.tariff_snapshot)
        rental = Rental(
            id=uuid.uuid4(),
            user_id=user_id,
            user_email=user_email,
            user_name=user_name,
            bike_id=bike_id,
            bike_number=bike.number,
            status=RentalStatus.ACTIVE,
            started_at=now,
            start_station_id=bike.station_id,
            tariff_id=uuid.UUID(tariff_snapshot["id"]),
            tariff_snapshot=tariff_snapshot,
        )
        # No savepoint around the insert: a unique violation ends this request, and the transaction with it.
        try:
            queries.rental_insert(cursor=cursor, rental=rental)
        except IntegrityError as exc:
            if "rental_one_active_per_rider" in str(exc):
                raise ActiveRentalExists("You already have an active rental.")
            if "rental_one_active_per_bike" in str(exc):
                raise BikeUnavailable("The bike is already rented.")
            raise
        if reservation is not None:
            reservation_consume(reservation=reservation, rental=rental)
        cursor.execute(queries.BIKE_RENTED, [now, bike_id])
    vehicle_event_record(
        device_id=bike_id,
        status=BikeStatus.RENTED,
        condition=bike.condition,
        preferred=("trip_start",),
        lat=bike.lat,
        lon=bike.lon,
        timestamp=now,
        trip_id=rental.id,
    )
    outbox_emit(
        event_type="rental.started",
        data={
            "rental_id": str(rental.id),
            "user_id": str(user_id),
            "bike_id": str(bike_id),
            "bike_number": bike.number,
            "started_at": _iso(now),
            "start_station_id": str(bike.station_id) if bike.station_id else None,
            "tariff": tariff_snapshot,
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
        "unlock_fee_waived": bool(rental.unlock_fee_waived),
    }


def _ensure_parking_allowed(*, cursor, bike_id: uuid.UUID, position: tuple[float, float] | None) -> None:
    """A rental that does not end at a station must not end inside a no-parking zone (409 with the
    nearest station, where it may always end). The position is the one the rider's app sent, else the
    bike's last known one; a bike with neither is not checked."""
    if position is None:
        cursor.execute(queries.BIKE_POSITION, [bike_id])
        lat, lon = cursor.fetchone()
        if lat is None or lon is None:
            return
        position = (lat, lon)
    lat, lon = position
    zone = no_parking_zone_at(lat=lat, lon=lon)
    if zone is None:
        return
    station = nearest_station(lat=lat, lon=lon)
    detail = f"Parking is not allowed in zone {zone.name!r}; end the rental at a station."
    if station is not None:
        detail = f"{detail[:-1]}, e.g. {station['name']} ({station['distance_m']} m away)."
    raise ParkingNotAllowed(detail, extensions={"zone_id": str(zone.id), "nearest_station": station})


@transaction.atomic
def rental_finish(
    *,
    user_id: uuid.UUID,
    rental_id: uuid.UUID,
    station_id: uuid.UUID | None = None,
    lat: float | None = None,
    lon: float | None = None,
) -> Rental:
    """Idempotent: finishing a finished rental returns it unchanged. `lat`/`lon` (the bike's position as
    the rider's app sees it) are used only when the rental does not end at a station."""
    with connection.cursor() as cursor:
        locked = queries.rental_locked(
            cursor=cursor, rental_id=rental_id, user_id=user_id, station_id=station_id
        )
        if locked is None:
            raise NotFound("Rental not found.")
        rental, found_station_id = locked.rental, locked.station_id
        if rental.status == RentalStatus.FINISHED:
            return rental
        if station_id is not None and found_station_id is None:
            raise ValidationFailed("Unknown station.", errors={"station_id": ["Unknown or retired station."]})
        position = (lat, lon) if lat is not None and lon is not None else None
        if found_station_id is None:
            _ensure_parking_allowed(cursor=cursor, bike_id=rental.bike_id, position=position)
        now = timezone.now()
        rental.status = RentalStatus.FINISHED
        rental.ended_at = now
        rental.duration_seconds = max(0, int((now - rental.started_at).total_seconds()))
        rental.end_station_id = found_station_id
        rental.unlock_fee_waived = bool(locked.problem_reported)
        cursor.execute(
            queries.RENTAL_FINISHED,
            [now, rental.duration_seconds, found_station_id, rental.unlock_fee_waived, rental.id],
        )
        # The bike's row lock is taken by this UPDATE, after the rental's (the order finish always had).
        if found_station_id is not None:
            cursor.execute(
                queries.BIKE_RETURNED_AT_STATION,
                [found_station_id, locked.station_lat, locked.station_lon, rental.id, now, rental.bike_id],
            )
        elif position is not None:
            cursor.execute(queries.BIKE_RETURNED_AT_POSITION, [*position, rental.id, now, rental.bike_id])
        else:
            cursor.execute(queries.BIKE_RETURNED_ELSEWHERE, [rental.id, now, rental.bike_id])
        bike_lat, bike_lon, condition = cursor.fetchone()
    # A bike that went out of service during the trip ends it non-operational, which MDS gives no
    # trip_end; the event still carries the trip id.
    vehicle_event_record(
        device_id=rental.bike_id,
        status=BikeStatus.AVAILABLE,
        condition=condition,
        preferred=("trip_end",),
        lat=bike_lat,
        lon=bike_lon,
        timestamp=now,
        trip_id=rental.id,
    )
    outbox_emit(event_type="rental.finished", data=rental_finished_event_data(rental=rental))
    return rental


def _invoice_amount_check(
    *,
    rental_id: uuid.UUID,
    tariff_snapshot: dict,
    duration_seconds: int | None,
    unlock_fee_waived: bool,
    amount: int,
    currency: str,
) -> None:
    if duration_seconds is None:
        raise InvoiceRejected(f"rental {rental_id} has no duration")
    expected_amount, expected_currency = tariff_snapshot_cost(
        tariff_snapshot=tariff_snapshot,
        duration_seconds=duration_seconds,
        unlock_fee_waived=unlock_fee_waived,
    )
    if (amount, currency) != (expected_amount, expected_currency):
        raise InvoiceRejected(
            f"invoice amount {amount} {currency} for rental {rental_id} differs from its tariff snapshot "
            f"and duration ({expected_amount} {expected_currency} for {duration_seconds} s)"
        )


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
    Returns False when the rental was already billed. An amount or currency other than what the rental's
    own tariff snapshot and duration cost (rentals.costs) is refused (InvoiceRejected): nothing is charged.

    The common case is one UPDATE that takes the row lock and checks that the rental is this rider's,
    finished and not billed yet (its RETURNING gives what the amount is checked against; a mismatch
    raises, which rolls the UPDATE back); only when it matches nothing does a locked read tell why."""
    billed_at = timezone.now()
    with transaction.get_connection().cursor() as cursor:
        billed = queries.invoice_apply(
            cursor=cursor,
            rental_id=rental_id,
            user_id=user_id,
            amount=amount,
            currency=currency,
            invoice_id=invoice_id,
            s3_key=s3_key,
            billed_at=billed_at,
        )
    if billed is not None:
        _invoice_amount_check(
            rental_id=rental_id,
            tariff_snapshot=_as_json(billed.tariff_snapshot),
            duration_seconds=billed.duration_seconds,
            unlock_fee_waived=billed.unlock_fee_waived,
            amount=amount,
            currency=currency,
        )
    else:
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
        _invoice_amount_check(
            rental_id=rental_id,
            tariff_snapshot=_as_json(rental.tariff_snapshot),
            duration_seconds=rental.duration_seconds,
            unlock_fee_waived=rental.unlock_fee_waived,
            amount=amount,
            currency=currency,
        )
        rental.cost_amount = amount
        rental.cost_currency = currency
        rental.invoice_id = invoice_id
        rental.invoice_s3_key = s3_key
        rental.billed_at = billed_at
        rental.save(
            update_fields=["cost_amount", "cost_currency", "invoice_id", "invoice_s3_key", "billed_at"]
        )
    try:
        charged = wallet_charge_rental(
            user_id=user_id,
            rental_id=rental_id,
            amount=amount,
            currency=currency,
            invoice_number=invoice_number,
        )
    except ValidationFailed as exc:
        raise InvoiceRejected(str(exc.errors or exc.detail)) from exc
    if charged.applied:
        # The notifier tells a rider whose wallet went negative how much to top up.
        outbox_emit(
            event_type="wallet.charged",
            data={
                "user_id": str(user_id),
                "rental_id": str(rental_id),
                "invoice_id": str(invoice_id),
                "amount": amount,
                "currency": currency,
                "balance_after": charged.entry.balance_after,
                "charged_at": _iso(billed_at),
            },
        )
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
