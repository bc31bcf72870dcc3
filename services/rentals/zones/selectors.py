import uuid

from core.exceptions import NotFound
from django.db.models import QuerySet
from fleet.models import Station

from zones.geometry import covers_point, distance_m
from zones.models import Zone


def zone_list() -> tuple[QuerySet[Zone], list[str]]:
    return Zone.objects.all(), ["name", "id"]


def zone_get(*, zone_id: uuid.UUID) -> Zone:
    zone = Zone.objects.filter(id=zone_id).first()
    if zone is None:
        raise NotFound("Zone not found.")
    return zone


def no_parking_zone_at(*, lat: float, lon: float) -> Zone | None:
    """A no-parking zone covering the point, if any: bounding boxes in SQL, then the polygons."""
    candidates = Zone.objects.filter(
        parking_allowed=False, min_lat__lte=lat, max_lat__gte=lat, min_lon__lte=lon, max_lon__gte=lon
    ).only("id", "name", "geometry")
    for zone in candidates.order_by("name", "id"):
        if covers_point(geometry=zone.geometry, lat=lat, lon=lon):
            return zone
    return None


def nearest_station(*, lat: float, lon: float) -> dict | None:
    """The nearest active station (a rental may always end at a station), with its distance in metres."""
    best = None
    for station in Station.objects.filter(is_active=True).values("id", "name", "lat", "lon"):
        distance = distance_m(lat1=lat, lon1=lon, lat2=station["lat"], lon2=station["lon"])
        if best is None or distance < best[0]:
            best = (distance, station)
    if best is None:
        return None
    distance, station = best
    return {
        "id": str(station["id"]),
        "name": station["name"],
        "lat": station["lat"],
        "lon": station["lon"],
        "distance_m": round(distance),
    }
