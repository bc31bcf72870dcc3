"""Reads behind the MDS 2.0 Provider endpoints (`mds.apis`), in MDS shapes (timestamps in milliseconds).

Events come from the append-only vehicle log (`vehicle_events`); trips are finished rentals, located by
their trip_start/trip_end events (else their stations)."""

import datetime as dt
import math
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Q
from fleet.models import Bike, BikeCondition, BikeStatus, Station
from gbfs.conf import gbfs_config
from rentals.models import Rental, RentalStatus
from vehicle_events.models import VehicleEvent, VehicleState
from vehicle_events.selectors import (
    vehicle_events_between,
    vehicle_events_of_trips,
    vehicle_last_events,
)

MDS_VERSION = "2.0.0"
VEHICLE_TYPE = "bicycle"
HOUR = dt.timedelta(hours=1)
RECENT_MAX_AGE = dt.timedelta(days=14)
# A write stamped just before an hour's end may commit just after it: an hour is never closed sooner.
COMMIT_GRACE = dt.timedelta(seconds=5)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def ms(value: dt.datetime) -> int:
    return (value - _EPOCH) // dt.timedelta(milliseconds=1)


def from_ms(value: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(milliseconds=value)


def provider_id() -> str:
    return str(settings.MDS_PROVIDER_ID)


def _location(lat: float | None, lon: float | None) -> dict | None:
    if lat is None or lon is None:
        return None
    return {"lat": lat, "lng": lon}


# The columns an MDS event is made of, in `_event_body`'s order.
_EVENT_FIELDS = (
    "device_id",
    "event_id",
    "vehicle_state",
    "event_type",
    "timestamp",
    "recorded_at",
    "lat",
    "lon",
    "trip_id",
)


def _event_body(
    provider: str, device_id, event_id, vehicle_state, event_type, timestamp, recorded_at, lat, lon, trip_id
) -> dict:
    body = {
        "provider_id": provider,
        "device_id": str(device_id),
        "event_id": str(event_id),
        "vehicle_state": vehicle_state,
        "event_types": [event_type],
        "timestamp": ms(timestamp),
        "publication_time": ms(recorded_at),
    }
    location = _location(lat, lon)
    if location is not None:
        body["location"] = location
    if trip_id is not None:
        body["trip_ids"] = [str(trip_id)]
    return body


def event_output(event: VehicleEvent) -> dict:
    return _event_body(provider_id(), *(getattr(event, name) for name in _EVENT_FIELDS))


def _telemetry_output(event: VehicleEvent) -> dict:
    on_trip = event.vehicle_state == VehicleState.ON_TRIP and event.trip_id is not None
    return {
        "provider_id": provider_id(),
        "device_id": str(event.device_id),
        # Derived from the event it was taken with, so the same status answers the same id.
        "telemetry_id": str(uuid.uuid5(event.event_id, "telemetry")),
        "timestamp": ms(event.timestamp),
        "trip_ids": [str(event.trip_id)] if on_trip else None,
        "journey_id": None,
        "location": _location(event.lat, event.lon),
    }


def vehicle_output(bike: Bike) -> dict:
    return {
        "provider_id": provider_id(),
        "device_id": str(bike.id),
        "vehicle_id": bike.number,
        "vehicle_type": VEHICLE_TYPE,
        "propulsion_types": [gbfs_config().propulsion_type],
        "vehicle_attributes": {"model": bike.model},
    }


def mds_vehicles(*, device_id: uuid.UUID | None = None) -> list[dict]:
    """Bikes in service (not retired); one bike by id whatever its status."""
    if device_id is not None:
        bikes = Bike.objects.filter(id=device_id)
    else:
        bikes = Bike.objects.exclude(status=BikeStatus.RETIRED).order_by("number")
    return [vehicle_output(bike) for bike in bikes]


def mds_vehicles_status(*, device_id: uuid.UUID | None = None) -> list[dict]:
    """Each bike's last event and the position it gave. Bikes whose last event has no position (never
    placed) have no valid telemetry and are left out."""
    if device_id is not None:
        events = vehicle_last_events(device_ids=[device_id])
    else:
        in_service = Bike.objects.exclude(status=BikeStatus.RETIRED).values_list("id", flat=True)
        events = vehicle_last_events(device_ids=list(in_service))
    return [
        {
            "provider_id": provider_id(),
            "device_id": str(event.device_id),
            "last_event": event_output(event),
            "last_telemetry": _telemetry_output(event),
        }
        for event in events
        if event.lat is not None and event.lon is not None
    ]


@dataclass(frozen=True)
class HourState:
    start: dt.datetime
    future: bool
    closed: bool


def mds_hour_state(*, start: dt.datetime) -> HourState:
    """An hour is in the future until it begins; open until it ends and, after that, until every rental
    that ended in it is billed or MDS_HOUR_CLOSE_SECONDS have passed (never before COMMIT_GRACE)."""
    from mds import clock

    now = clock.now()
    end = start + HOUR
    if start > now:
        return HourState(start=start, future=True, closed=False)
    if now < end + COMMIT_GRACE:
        return HourState(start=start, future=False, closed=False)
    if now >= end + dt.timedelta(seconds=settings.MDS_HOUR_CLOSE_SECONDS):
        return HourState(start=start, future=False, closed=True)
    unbilled = Rental.objects.filter(
        status=RentalStatus.FINISHED, ended_at__gte=start, ended_at__lt=end, invoice_id__isnull=True
    ).exists()
    return HourState(start=start, future=False, closed=not unbilled)


def mds_events_between(*, start: dt.datetime, end: dt.datetime) -> list[dict]:
    """Read as tuples, not model instances: an hour holds thousands of events, and building an instance per
    row was most of the answer's CPU (BENCHMARKS.md, S8)."""
    provider = provider_id()
    rows = vehicle_events_between(start=start, end=end).values_list(*_EVENT_FIELDS).iterator(2000)
    return [_event_body(provider, *row) for row in rows]


def _distance_m(start: dict, end: dict) -> int:
    """Great-circle distance from start to end: bikes report no track, so a trip's distance is the
    straight line between where it started and where it ended (a lower bound of the ride)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (start["lat"], start["lng"], end["lat"], end["lng"]))
    a = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return round(2 * 6_371_008.8 * math.asin(min(1.0, math.sqrt(a))))


def mds_trips_ended_between(*, start: dt.datetime, end: dt.datetime) -> list[dict]:
    """Rentals that ended in [start, end). Locations from the trip's first and last events in the log,
    else its stations; a trip with neither (a bike never placed) cannot be described and is left out."""
    rentals = list(
        Rental.objects.filter(status=RentalStatus.FINISHED, ended_at__gte=start, ended_at__lt=end)
        .select_related("start_station", "end_station")
        .order_by("ended_at", "id")
    )
    events: dict[uuid.UUID, list[VehicleEvent]] = {}
    for event in vehicle_events_of_trips(trip_ids=[rental.id for rental in rentals]):
        events.setdefault(event.trip_id, []).append(event)
    trips = []
    for rental in rentals:
        trip_events = events.get(rental.id, [])
        start_location = _location(trip_events[0].lat, trip_events[0].lon) if trip_events else None
        end_location = _location(trip_events[-1].lat, trip_events[-1].lon) if len(trip_events) > 1 else None
        if start_location is None and rental.start_station is not None:
            start_location = _location(rental.start_station.lat, rental.start_station.lon)
        if end_location is None and rental.end_station is not None:
            end_location = _location(rental.end_station.lat, rental.end_station.lon)
        if start_location is None or end_location is None:
            continue
        trip = {
            "provider_id": provider_id(),
            "device_id": str(rental.bike_id),
            "trip_id": str(rental.id),
            "trip_type": ["rider"],
            "start_time": ms(rental.started_at),
            "end_time": ms(rental.ended_at),
            "start_location": start_location,
            "end_location": end_location,
            "duration": rental.duration_seconds or 0,
            "distance": _distance_m(start_location, end_location),
            "publication_time": ms(rental.ended_at),
        }
        if rental.invoice_id is not None and rental.cost_amount is not None:
            trip["actual_cost"] = rental.cost_amount
            trip["currency"] = rental.cost_currency
        trips.append(trip)
    return trips


def mds_stops(*, stop_id: uuid.UUID | None = None) -> list[dict]:
    """Stations as MDS stops, with their bikes counted like GBFS counts them (available = `ok` and
    available; disabled = in service but not rentable)."""
    stations = Station.objects.all()
    if stop_id is not None:
        stations = stations.filter(id=stop_id)
    in_service = ~Q(bikes__status=BikeStatus.RETIRED)
    stations = stations.annotate(
        available=Count(
            "bikes", filter=Q(bikes__status=BikeStatus.AVAILABLE, bikes__condition=BikeCondition.OK)
        ),
        disabled=Count(
            "bikes",
            filter=in_service
            & ~Q(bikes__status=BikeStatus.RENTED)
            & (~Q(bikes__condition=BikeCondition.OK) | Q(bikes__status=BikeStatus.MAINTENANCE)),
        ),
    ).order_by("name")
    devices: dict[uuid.UUID, list[str]] = {}
    bikes = Bike.objects.filter(station__in=[station.id for station in stations]).exclude(
        status=BikeStatus.RETIRED
    )
    for bike_id, station_id in bikes.values_list("id", "station_id"):
        devices.setdefault(station_id, []).append(str(bike_id))
    return [
        {
            "stop_id": str(station.id),
            "provider_id": provider_id(),
            "name": station.name,
            "last_updated": ms(station.updated_at),
            "location": {"lat": station.lat, "lng": station.lon},
            "status": {
                "is_installed": station.is_active,
                "is_renting": station.is_active,
                "is_returning": station.is_active,
            },
            "capacity": {VEHICLE_TYPE: station.capacity},
            "num_vehicles_available": {VEHICLE_TYPE: station.available},
            "num_vehicles_disabled": {VEHICLE_TYPE: station.disabled},
            "devices": sorted(devices.get(station.id, [])),
        }
        for station in stations
    ]


REPORT_COLUMNS = (
    "provider_id",
    "start_date",
    "duration",
    "special_group_type",
    "geography_id",
    "vehicle_type",
    "trip_count",
    "rider_count",
)
# MDS reports redact small counts: anything under this is written as -1.
REPORT_MIN_COUNT = 10


def _redacted(count: int) -> int:
    return count if count >= REPORT_MIN_COUNT else -1


def mds_month_report_rows(*, month_start: dt.datetime, month_end: dt.datetime) -> list[list[str]]:
    """One row: all riders, the whole system (no MDS geographies are published, so geography_id is empty),
    bicycles; trips = finished rentals that started in the month, riders = distinct riders among them.
    Rentals know no special groups (low income, adaptive, ...), so there are no rows for them."""
    counts = Rental.objects.filter(
        status=RentalStatus.FINISHED, started_at__gte=month_start, started_at__lt=month_end
    ).aggregate(trips=Count("id"), riders=Count("user_id", distinct=True))
    return [
        [
            provider_id(),
            month_start.date().isoformat(),
            "P1M",
            "all_riders",
            "",
            VEHICLE_TYPE,
            str(_redacted(counts["trips"])),
            str(_redacted(counts["riders"])),
        ]
    ]
