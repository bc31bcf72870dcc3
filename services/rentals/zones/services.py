import uuid
from typing import Any

from core.exceptions import NotFound
from django.db import transaction

from zones.geometry import multipolygon_clean
from zones.models import Zone

RULE_FIELDS = ("name", "ride_allowed", "ride_through_allowed", "parking_allowed", "maximum_speed_kph")


def _set_geometry(zone: Zone, value) -> None:
    geometry, (zone.min_lon, zone.min_lat, zone.max_lon, zone.max_lat) = multipolygon_clean(value)
    zone.geometry = geometry


@transaction.atomic
def zone_create(
    *,
    name: str,
    geometry: dict,
    ride_allowed: bool = True,
    ride_through_allowed: bool = True,
    parking_allowed: bool = True,
    maximum_speed_kph: int | None = None,
) -> Zone:
    zone = Zone(
        name=name,
        ride_allowed=ride_allowed,
        ride_through_allowed=ride_through_allowed,
        parking_allowed=parking_allowed,
        maximum_speed_kph=maximum_speed_kph,
    )
    _set_geometry(zone, geometry)
    zone.save()
    return zone


@transaction.atomic
def zone_update(*, zone_id: uuid.UUID, data: dict[str, Any]) -> Zone:
    zone = Zone.objects.select_for_update().filter(id=zone_id).first()
    if zone is None:
        raise NotFound("Zone not found.")
    for field in RULE_FIELDS:
        if field in data:
            setattr(zone, field, data[field])
    if "geometry" in data:
        _set_geometry(zone, data["geometry"])
    zone.save()
    return zone


@transaction.atomic
def zone_delete(*, zone_id: uuid.UUID) -> None:
    deleted, _ = Zone.objects.filter(id=zone_id).delete()
    if not deleted:
        raise NotFound("Zone not found.")
