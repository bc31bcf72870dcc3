"""Reads that build the `data` object of each GBFS v3.0 file.

Every builder runs a constant number of queries whatever the fleet size: one grouped query for the
per-station counts, one query (with a correlated subquery) for the vehicles."""

import datetime as dt
import hmac
import uuid
from collections import defaultdict
from decimal import Decimal

from alerts.selectors import alerts_current
from django.db.models import Count, TextField
from django.db.models.functions import Cast
from fleet.models import Bike, BikeCondition, BikeStatus, Station, Tariff
from fleet.selectors import tariff_in_force
from zones.models import Zone

from gbfs.conf import GbfsConfig
from gbfs.money import json_number, minor_to_major

GBFS_VERSION = "3.0"
MINUTES_PER_DAY = 24 * 60

# Feeds published in gbfs.json, in the order the spec lists them. Status feeds change with every trip.
FEEDS = (
    "gbfs",
    "gbfs_versions",
    "system_information",
    "vehicle_types",
    "station_information",
    "station_status",
    "vehicle_status",
    "system_pricing_plans",
    "system_alerts",
    "geofencing_zones",
)
STATUS_FEEDS = frozenset({"station_status", "vehicle_status"})
# Feeds on the status ttl (GBFS_STATUS_TTL): trips change the status feeds; operators' alerts and zones
# must reach riders' apps and trip planners as soon.
SHORT_TTL_FEEDS = STATUS_FEEDS | {"system_alerts", "geofencing_zones"}
# Feeds that embed absolute URLs, so they depend on the base URL the client used.
DISCOVERY_FEEDS = frozenset({"gbfs", "gbfs_versions"})
# Bikes that are somewhere a rider can see them; rented bikes are on a trip, retired ones are gone.
VISIBLE_STATUSES = (BikeStatus.AVAILABLE, BikeStatus.RESERVED, BikeStatus.MAINTENANCE)
# A missing bike is not where the data last saw it, so it is not published at all; a bike in any other
# condition but `ok` is shown disabled (and is not available).


def rfc3339(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat()


# The fleet records no form factor or propulsion, so every bike is one GBFS vehicle type, and there is one
# pricing plan: the tariff in force. Constant ids keep the files consistent with one another even when each
# was built (and cached, by another worker) at a slightly different moment: a vehicle type or plan id
# derived from data (bike models, tariff ids) would, for a few seconds after a change, be referenced by
# one file and missing from another, which gbfs-validator rightly rejects.
VEHICLE_TYPE_ID = "bicycle"
PRICING_PLAN_ID = "standard"


def vehicle_public_id(
    *, config: GbfsConfig, bike_id: uuid.UUID | str, last_trip_id: uuid.UUID | str | None
) -> str:
    """GBFS requires vehicle_id to rotate after every trip. Keying it on the bike's latest finished
    rental rotates it without any write, and the HMAC keeps the internal id from leaking. Ids may be
    given as UUIDs or in their canonical text form (the same message either way)."""
    return _vehicle_id(config.vehicle_id_secret.encode(), bike_id, last_trip_id)


def _vehicle_id(key: bytes, bike_id: uuid.UUID | str, last_trip_id: uuid.UUID | str | None) -> str:
    message = f"velo:gbfs:vehicle:{bike_id}:{last_trip_id or '-'}".encode()
    return hmac.digest(key, message, "sha256").hex()[:32]


def feed_url(*, base_url: str, feed: str) -> str:
    return f"{base_url}/gbfs/v3/{feed}.json"


def gbfs_discovery_data(*, base_url: str) -> dict:
    return {"feeds": [{"name": feed, "url": feed_url(base_url=base_url, feed=feed)} for feed in FEEDS]}


def gbfs_versions_data(*, base_url: str) -> dict:
    return {"versions": [{"version": GBFS_VERSION, "url": feed_url(base_url=base_url, feed="gbfs")}]}


def system_information_data(*, config: GbfsConfig) -> dict:
    data = {
        "system_id": config.system_id,
        "languages": config.languages,
        "name": config.localized(config.system_name),
        "operator": config.localized(config.operator),
        "opening_hours": config.opening_hours,
        "feed_contact_email": config.feed_contact_email,
        "timezone": config.timezone,
    }
    if config.license_url:
        data["license_url"] = config.license_url
    return data


def vehicle_types_data(*, config: GbfsConfig) -> dict:
    vehicle_type = {
        "vehicle_type_id": VEHICLE_TYPE_ID,
        "form_factor": "bicycle",
        "propulsion_type": config.propulsion_type,
        "name": config.localized(config.vehicle_type_name),
        "wheel_count": 2,
        "rider_capacity": 1,
    }
    if config.max_range_meters is not None:
        vehicle_type["max_range_meters"] = config.max_range_meters
    if tariff_in_force() is not None:
        vehicle_type["default_pricing_plan_id"] = PRICING_PLAN_ID
        vehicle_type["pricing_plan_ids"] = [PRICING_PLAN_ID]
    return {"vehicle_types": [vehicle_type]}


def _stations():
    return Station.objects.filter(is_active=True).order_by("name", "id")


def station_information_data(*, config: GbfsConfig) -> dict:
    stations = [
        {
            "station_id": str(row["id"]),
            "name": config.localized(row["name"]),
            "lat": row["lat"],
            "lon": row["lon"],
            "capacity": row["capacity"],
        }
        for row in _stations().values("id", "name", "lat", "lon", "capacity")
    ]
    return {"stations": stations}


def station_status_data(*, now: dt.datetime) -> dict:
    # One grouped query: how many bikes of each status stand at each station.
    counts: dict[uuid.UUID, dict[str, int]] = defaultdict(dict)
    grouped = (
        Bike.objects.filter(station__isnull=False, status__in=VISIBLE_STATUSES)
        .exclude(condition=BikeCondition.MISSING)
        .values("station_id", "status", "condition")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in grouped:
        by_status = counts[row["station_id"]]
        # A bike not `ok` counts as disabled, whatever its trip status.
        status = BikeStatus.MAINTENANCE if row["condition"] != BikeCondition.OK else row["status"]
        by_status[status] = by_status.get(status, 0) + row["n"]

    reported = rfc3339(now)
    stations = []
    for row in _stations().values("id", "capacity"):
        by_status = counts.get(row["id"], {})
        available = by_status.get(BikeStatus.AVAILABLE, 0)
        stations.append(
            {
                "station_id": str(row["id"]),
                "num_vehicles_available": available,
                "vehicle_types_available": [{"vehicle_type_id": VEHICLE_TYPE_ID, "count": available}],
                "num_vehicles_disabled": by_status.get(BikeStatus.MAINTENANCE, 0),
                "num_docks_available": max(row["capacity"] - sum(by_status.values()), 0),
                "is_installed": True,
                "is_renting": True,
                # Any active station takes returns (rental_finish does not check capacity).
                "is_returning": True,
                "last_reported": reported,
            }
        )
    return {"stations": stations}


def vehicle_status_data(*, config: GbfsConfig) -> dict:
    # One plain fetch of tuples with the ids as text: UUID objects, row dicts and a server-side cursor
    # were most of this feed's cost (BENCHMARKS.md, S4). Same ids as vehicle_public_id().
    rows = (
        Bike.objects.filter(status__in=VISIBLE_STATUSES)
        .exclude(condition=BikeCondition.MISSING)
        .annotate(
            id_text=Cast("id", TextField()),
            station_text=Cast("station_id", TextField()),
            last_rental_text=Cast("last_rental_id", TextField()),
        )
        .values_list("id_text", "status", "station_text", "lat", "lon", "last_rental_text", "condition")
    )
    key = config.vehicle_id_secret.encode()
    reserved, maintenance, ok = str(BikeStatus.RESERVED), str(BikeStatus.MAINTENANCE), str(BikeCondition.OK)
    vehicles = []
    for bike_id, status, station_id, lat, lon, last_rental_id, condition in rows:
        has_position = lat is not None and lon is not None
        if not has_position and station_id is None:
            continue  # nowhere to show it
        vehicle = {
            "vehicle_id": _vehicle_id(key, bike_id, last_rental_id),
            "is_reserved": status == reserved,
            "is_disabled": status == maintenance or condition != ok,
            "vehicle_type_id": VEHICLE_TYPE_ID,
        }
        if has_position:
            vehicle["lat"] = lat
            vehicle["lon"] = lon
        if station_id is not None:
            vehicle["station_id"] = station_id
        vehicles.append(vehicle)
    # Sorted by the opaque id, so the order says nothing about bike numbers or ids either.
    vehicles.sort(key=lambda vehicle: vehicle["vehicle_id"])
    return {"vehicles": vehicles}


def per_min_pricing(*, tariff: Tariff, cap_days: int) -> list[dict]:
    """Segments for the billing rule: every started minute costs `price_per_minute`; with a daily cap the
    minute charges of each 24-hour window (from the start of the trip) stop at the cap. GBFS has no cap
    field, so each capped window is spelled out as segments, for the first `cap_days` windows."""
    rate_minor = tariff.price_per_minute
    if rate_minor == 0:
        return []
    rate = json_number(minor_to_major(amount=rate_minor, currency=tariff.currency))
    cap = tariff.daily_cap
    if cap is None or cap >= MINUTES_PER_DAY * rate_minor:
        return [{"start": 0, "rate": rate, "interval": 1}]
    if cap == 0:
        return []
    full_minutes, remainder = divmod(cap, rate_minor)
    segments: list[dict] = []
    for day in range(cap_days):
        base = day * MINUTES_PER_DAY
        if full_minutes:
            segments.append({"start": base, "rate": rate, "interval": 1, "end": base + full_minutes})
        if remainder:
            # The minute that reaches the cap costs only what is left of it.
            partial = json_number(minor_to_major(amount=remainder, currency=tariff.currency))
            start = base + full_minutes
            segments.append({"start": start, "rate": partial, "interval": 1, "end": start + 1})
    return segments


def _money_text(*, amount: int, currency: str) -> str:
    return f"{minor_to_major(amount=amount, currency=currency)} {currency}"


def pricing_plan_description(*, tariff: Tariff) -> str:
    parts = [f"Unlock {_money_text(amount=tariff.unlock_fee, currency=tariff.currency)}"]
    parts.append(
        f"then {_money_text(amount=tariff.price_per_minute, currency=tariff.currency)} per started minute"
    )
    text = ", ".join(parts)
    if tariff.daily_cap is not None:
        text += f", at most {_money_text(amount=tariff.daily_cap, currency=tariff.currency)} per 24 hours"
    return text + "."


def system_pricing_plans_data(*, config: GbfsConfig) -> dict:
    """The tariff in force; superseded and future tariffs price no new trip, so they are not published."""
    tariff = tariff_in_force()
    if tariff is None:
        return {"plans": []}
    price: Decimal = minor_to_major(amount=tariff.unlock_fee, currency=tariff.currency)
    plan = {
        "plan_id": PRICING_PLAN_ID,
        "name": config.localized(tariff.name),
        "currency": tariff.currency,
        "price": json_number(price),
        # Tariff prices are what the rider pays; no tax is added on top.
        "is_taxable": False,
        "description": config.localized(pricing_plan_description(tariff=tariff)),
    }
    segments = per_min_pricing(tariff=tariff, cap_days=config.pricing_cap_days)
    if segments:
        plan["per_min_pricing"] = segments
    return {"plans": [plan]}


def system_alerts_data(*, now: dt.datetime) -> dict:
    """Alerts not over at the window's start; GBFS v3.0 spells the types in lower case."""
    alerts = []
    for alert in alerts_current(now=now):
        times = {"start": rfc3339(alert.starts_at)}
        if alert.ends_at is not None:
            times["end"] = rfc3339(alert.ends_at)
        entry = {
            "alert_id": str(alert.id),
            "type": alert.alert_type.lower(),
            "times": [times],
            "summary": alert.summary,
            "last_updated": rfc3339(alert.updated_at),
        }
        if alert.station_ids:
            entry["station_ids"] = [str(station_id) for station_id in alert.station_ids]
        if alert.description:
            entry["description"] = alert.description
        if alert.url:
            entry["url"] = alert.url
        alerts.append(entry)
    return {"alerts": alerts}


# Outside every zone: anything goes (stations and free-floating returns alike).
GLOBAL_RULES = [{"ride_start_allowed": True, "ride_end_allowed": True, "ride_through_allowed": True}]


def zone_rule(
    *, ride_allowed: bool, ride_through_allowed: bool, parking_allowed: bool, speed: int | None
) -> dict:
    """A no-parking zone still lets a trip end at a station (rental_finish's rule), which GBFS says as
    `ride_end_allowed` with `station_parking`."""
    rule = {
        "ride_start_allowed": ride_allowed,
        "ride_end_allowed": True,
        "ride_through_allowed": ride_through_allowed,
        "station_parking": not parking_allowed,
    }
    if speed is not None:
        rule["maximum_speed_kph"] = speed
    return rule


def geofencing_zones_data(*, config: GbfsConfig) -> dict:
    rows = Zone.objects.order_by("name", "id").values_list(
        "name", "geometry", "ride_allowed", "ride_through_allowed", "parking_allowed", "maximum_speed_kph"
    )
    features = [
        {
            "type": "Feature",
            "geometry": geometry,
            "properties": {
                "name": config.localized(name),
                "rules": [
                    zone_rule(
                        ride_allowed=ride_allowed,
                        ride_through_allowed=ride_through_allowed,
                        parking_allowed=parking_allowed,
                        speed=speed,
                    )
                ],
            },
        }
        for name, geometry, ride_allowed, ride_through_allowed, parking_allowed, speed in rows
    ]
    return {
        "geofencing_zones": {"type": "FeatureCollection", "features": features},
        "global_rules": GLOBAL_RULES,
    }
