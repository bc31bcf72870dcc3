import datetime as dt
import uuid
from typing import Any

from core.exceptions import Conflict, NotFound, ValidationFailed
from django.db import IntegrityError, transaction
from outbox.services import outbox_emit
from vehicle_events.services import vehicle_event_record, vehicle_events_record_many

from fleet.models import (
    Bike,
    BikeCondition,
    BikeConditionChange,
    BikeStatus,
    ConditionSource,
    Station,
    Tariff,
)

ADMIN_SETTABLE_STATUSES = (BikeStatus.AVAILABLE, BikeStatus.MAINTENANCE)


def _station_for(station_id: uuid.UUID | None) -> Station | None:
    if station_id is None:
        return None
    station = Station.objects.filter(id=station_id, is_active=True).first()
    if station is None:
        raise ValidationFailed("Unknown station.", errors={"station_id": ["Unknown or retired station."]})
    return station


def _lock_bike(bike_id: uuid.UUID) -> Bike:
    try:
        bike = Bike.objects.select_for_update().get(id=bike_id)
    except Bike.DoesNotExist:
        raise NotFound("Bike not found.")
    if bike.status == BikeStatus.RESERVED:
        # An overdue reservation never blocks an admin either: expire it under this lock first.
        from reservations.services import reservation_settle_locked_bike

        reservation_settle_locked_bike(bike=bike)
    return bike


@transaction.atomic
def station_create(*, name: str, lat: float, lon: float, capacity: int) -> Station:
    try:
        with transaction.atomic():
            return Station.objects.create(name=name, lat=lat, lon=lon, capacity=capacity)
    except IntegrityError:
        raise Conflict("A station with this name already exists.")


@transaction.atomic
def station_update(*, station_id: uuid.UUID, data: dict[str, Any]) -> Station:
    station = Station.objects.select_for_update().filter(id=station_id).first()
    if station is None:
        raise NotFound("Station not found.")
    for field in ("name", "lat", "lon", "capacity", "is_active"):
        if field in data:
            setattr(station, field, data[field])
    try:
        with transaction.atomic():
            station.save()
    except IntegrityError:
        raise Conflict("A station with this name already exists.")
    if "lat" in data or "lon" in data:
        bikes = list(Bike.objects.select_for_update().filter(station=station).order_by("id"))
        Bike.objects.filter(station=station).update(lat=station.lat, lon=station.lon)
        for bike in bikes:
            bike.lat, bike.lon = station.lat, station.lon
        # The bikes did not travel: the station's position was corrected, so each is `located` anew.
        vehicle_events_record_many(bikes=bikes, preferred=("located",))
    return station


@transaction.atomic
def station_retire(*, station_id: uuid.UUID) -> Station:
    station = Station.objects.select_for_update().filter(id=station_id).first()
    if station is None:
        raise NotFound("Station not found.")
    if Bike.objects.filter(station=station).exclude(status=BikeStatus.RETIRED).exists():
        raise Conflict("Move the bikes away before retiring the station.")
    station.is_active = False
    station.save(update_fields=["is_active", "updated_at"])
    return station


@transaction.atomic
def bike_create(
    *,
    number: str,
    model: str,
    station_id: uuid.UUID | None = None,
    lat: float | None = None,
    lon: float | None = None,
    status: str = BikeStatus.AVAILABLE,
) -> Bike:
    if status not in ADMIN_SETTABLE_STATUSES:
        raise ValidationFailed("Invalid status.", errors={"status": ["Must be available or maintenance."]})
    station = _station_for(station_id)
    if station is not None:
        lat, lon = station.lat, station.lon
    try:
        with transaction.atomic():
            bike = Bike.objects.create(
                number=number, model=model, station=station, lat=lat, lon=lon, status=status
            )
    except IntegrityError:
        raise Conflict("A bike with this number already exists.")
    _record(bike=bike, preferred=("provider_drop_off", "maintenance"))
    return bike


def _record(*, bike: Bike, preferred: tuple[str, ...]) -> None:
    vehicle_event_record(
        device_id=bike.id,
        status=bike.status,
        condition=bike.condition,
        preferred=preferred,
        lat=bike.lat,
        lon=bike.lon,
    )


# What an operator's bike edit means in MDS: a status change is maintenance starting or ending; a move
# is the drop-off of a rebalance (the pick-up and the ride are not seen, so one event says where it is).
_STATUS_EVENT_TYPES = ("maintenance", "located")
_MOVE_EVENT_TYPES = ("provider_drop_off", "located")


@transaction.atomic
def bike_update(*, bike_id: uuid.UUID, data: dict[str, Any]) -> Bike:
    bike = _lock_bike(bike_id)
    if bike.status == BikeStatus.RETIRED:
        raise Conflict("A retired bike cannot be edited.")
    before = (bike.status, bike.station_id, bike.lat, bike.lon)
    if "status" in data and data["status"] != bike.status:
        if data["status"] not in ADMIN_SETTABLE_STATUSES:
            raise ValidationFailed(
                "Invalid status.", errors={"status": ["Must be available or maintenance."]}
            )
        if bike.status not in ADMIN_SETTABLE_STATUSES:
            raise Conflict(f"The bike is {bike.status}; its status cannot be changed now.")
        bike.status = data["status"]
    if "station_id" in data:
        if bike.status in (BikeStatus.RENTED,):
            raise Conflict("A rented bike cannot be moved to a station.")
        bike.station = _station_for(data["station_id"])
        if bike.station is not None:
            bike.lat, bike.lon = bike.station.lat, bike.station.lon
    for field in ("number", "model", "lat", "lon"):
        if field in data:
            setattr(bike, field, data[field])
    try:
        with transaction.atomic():
            bike.save()
    except IntegrityError:
        raise Conflict("A bike with this number already exists.")
    if before[0] != bike.status:
        _record(bike=bike, preferred=_STATUS_EVENT_TYPES)
    elif before[1:] != (bike.station_id, bike.lat, bike.lon):
        _record(bike=bike, preferred=_MOVE_EVENT_TYPES)
    return bike


@transaction.atomic
def bike_retire(*, bike_id: uuid.UUID) -> Bike:
    """Refused while the bike is rented or reserved (the row lock serializes this with renting)."""
    bike = _lock_bike(bike_id)
    if bike.status in (BikeStatus.RENTED, BikeStatus.RESERVED):
        raise Conflict(f"The bike is {bike.status} and cannot be retired.")
    if bike.status != BikeStatus.RETIRED:
        bike.status = BikeStatus.RETIRED
        bike.save(update_fields=["status", "updated_at"])
        _record(bike=bike, preferred=("decommissioned",))
    return bike


def _iso(value) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def bike_condition_change_locked(
    *, bike: Bike, condition: str, reason: str, source: str, changed_by: uuid.UUID | None
) -> BikeConditionChange:
    """Call with the bike row locked (renting takes the same lock, so a rent and a condition change never
    interleave). Writes the history row, the bike and `bike.condition_changed` in the caller's transaction."""
    change = BikeConditionChange.objects.create(
        bike=bike,
        from_condition=bike.condition,
        to_condition=condition,
        reason=reason,
        source=source,
        changed_by=changed_by,
    )
    bike.condition = condition
    bike.save(update_fields=["condition", "updated_at"])
    # in_repair: taken off the street; needs_check/broken: out of service where it stands; ok: back in
    # service; missing: not located. A rented bike stays on its trip (`unspecified`).
    _record(bike=bike, preferred=("maintenance_pick_up", "maintenance", "not_located"))
    outbox_emit(
        event_type="bike.condition_changed",
        data={
            "bike_id": str(bike.id),
            "bike_number": bike.number,
            "from_condition": change.from_condition,
            "to_condition": change.to_condition,
            "reason": reason,
            "source": source,
            "changed_by": str(changed_by) if changed_by else None,
            "changed_at": _iso(change.created_at),
        },
    )
    return change


@transaction.atomic
def bike_condition_set(
    *, bike_id: uuid.UUID, condition: str, reason: str, changed_by: uuid.UUID | None
) -> BikeConditionChange:
    """Operator transition: any condition to any other. A rented bike may change condition (the trip goes
    on; the bike cannot be rented again until it is `ok`). A retired bike or no change is a 409."""
    if condition not in BikeCondition.values:
        raise ValidationFailed("Invalid condition.", errors={"condition": ["Unknown condition."]})
    bike = _lock_bike(bike_id)
    if bike.status == BikeStatus.RETIRED:
        raise Conflict("A retired bike has no condition to change.")
    if bike.condition == condition:
        raise Conflict(f"The bike is already {condition}.")
    return bike_condition_change_locked(
        bike=bike, condition=condition, reason=reason, source=ConditionSource.OPERATOR, changed_by=changed_by
    )


@transaction.atomic
def tariff_create(
    *,
    name: str,
    unlock_fee: int,
    price_per_minute: int,
    currency: str,
    daily_cap: int | None = None,
    valid_from=None,
) -> Tariff:
    fields: dict[str, Any] = {
        "name": name,
        "unlock_fee": unlock_fee,
        "price_per_minute": price_per_minute,
        "currency": currency,
        "daily_cap": daily_cap,
    }
    if valid_from is not None:
        fields["valid_from"] = valid_from
    return Tariff.objects.create(**fields)


@transaction.atomic
def tariff_update(*, tariff_id: uuid.UUID, data: dict[str, Any]) -> Tariff:
    """Rentals keep the snapshot taken when they started, so editing a tariff never reprices them."""
    tariff = Tariff.objects.select_for_update().filter(id=tariff_id).first()
    if tariff is None:
        raise NotFound("Tariff not found.")
    for field in (
        "name",
        "unlock_fee",
        "price_per_minute",
        "daily_cap",
        "currency",
        "valid_from",
        "is_active",
    ):
        if field in data:
            setattr(tariff, field, data[field])
    tariff.save()
    return tariff


@transaction.atomic
def tariff_retire(*, tariff_id: uuid.UUID) -> Tariff:
    tariff = Tariff.objects.select_for_update().filter(id=tariff_id).first()
    if tariff is None:
        raise NotFound("Tariff not found.")
    tariff.is_active = False
    tariff.save(update_fields=["is_active", "updated_at"])
    return tariff
