"""Every feed body validates against MobilityData's official GBFS v3.0 JSON schemas (as vendored by the
gbfs-validator package), plus the cross-file rules gbfs-validator adds on top of them."""

import datetime as dt
from urllib.parse import urlsplit

import pytest
from fleet.models import BikeStatus, Tariff
from jsonschema import Draft7Validator, FormatChecker

from gbfs.selectors import FEEDS

pytestmark = pytest.mark.django_db

MOTORIZED = {"electric_assist", "electric", "combustion"}


def _formats() -> FormatChecker:
    """jsonschema only checks date-time and uri when optional packages are present; check them here."""
    checker = FormatChecker()

    @checker.checks("date-time", raises=ValueError)
    def _date_time(value):
        if not isinstance(value, str):
            return True
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return "T" in value and parsed.tzinfo is not None

    @checker.checks("uri")
    def _uri(value):
        if not isinstance(value, str):
            return True
        parts = urlsplit(value)
        return bool(parts.scheme and parts.netloc)

    return checker


def schema_errors(schema: dict, body: dict) -> list[str]:
    validator = Draft7Validator(schema, format_checker=_formats())
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(body)
    ]


def cross_file_errors(bodies: dict[str, dict]) -> list[str]:
    """gbfs-validator's v3.0 partial schemas: once vehicle_types exists, station_status must list
    vehicle_types_available with known ids and vehicle_status must give each vehicle a known
    vehicle_type_id (and a range for motorized ones); default pricing plans must exist."""
    errors = []
    types = {t["vehicle_type_id"]: t for t in bodies["vehicle_types"]["data"]["vehicle_types"]}
    plans = {p["plan_id"] for p in bodies["system_pricing_plans"]["data"]["plans"]}
    stations = {s["station_id"] for s in bodies["station_information"]["data"]["stations"]}
    for vehicle_type in types.values():
        if "default_pricing_plan_id" in vehicle_type and vehicle_type["default_pricing_plan_id"] not in plans:
            errors.append(f"vehicle type {vehicle_type['vehicle_type_id']}: unknown default_pricing_plan_id")
    for station in bodies["station_status"]["data"]["stations"]:
        if station["station_id"] not in stations:
            errors.append(f"station_status: {station['station_id']} missing from station_information")
        if types and "vehicle_types_available" not in station:
            errors.append(f"station_status: {station['station_id']} lacks vehicle_types_available")
        for entry in station.get("vehicle_types_available", []):
            if entry["vehicle_type_id"] not in types:
                errors.append(f"station_status: unknown vehicle_type_id {entry['vehicle_type_id']}")
        if (
            sum(e["count"] for e in station.get("vehicle_types_available", []))
            != station["num_vehicles_available"]
        ):
            errors.append(f"station_status: {station['station_id']} type counts do not add up")
    for vehicle in bodies["vehicle_status"]["data"]["vehicles"]:
        type_id = vehicle.get("vehicle_type_id")
        if types and type_id not in types:
            errors.append(f"vehicle_status: {vehicle['vehicle_id']} has unknown vehicle_type_id {type_id}")
        elif (
            types and types[type_id]["propulsion_type"] in MOTORIZED and "current_range_meters" not in vehicle
        ):
            errors.append(f"vehicle_status: {vehicle['vehicle_id']} lacks current_range_meters")
        if "station_id" in vehicle and vehicle["station_id"] not in stations:
            errors.append(f"vehicle_status: {vehicle['vehicle_id']} at unknown station")
    return errors


def _bodies(client) -> dict[str, dict]:
    discovery = client.get("/gbfs/v3/gbfs.json").json()
    bodies = {"gbfs": discovery}
    for feed in discovery["data"]["feeds"]:
        parts = urlsplit(feed["url"])
        response = client.get(parts.path, HTTP_HOST=parts.netloc)
        assert response.status_code == 200, feed
        bodies[feed["name"]] = response.json()
    assert set(bodies) == set(FEEDS)
    return bodies


def _assert_valid(client, gbfs_schemas):
    bodies = _bodies(client)
    problems = {feed: schema_errors(gbfs_schemas[feed], body) for feed, body in bodies.items()}
    problems = {feed: errors for feed, errors in problems.items() if errors}
    assert problems == {}
    assert cross_file_errors(bodies) == []
    return bodies


def test_demo_fleet_validates(client, gbfs_schemas, db):
    from django.core.management import call_command

    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    bodies = _assert_valid(client, gbfs_schemas)
    assert len(bodies["vehicle_status"]["data"]["vehicles"]) == 30
    assert len(bodies["station_status"]["data"]["stations"]) == 3


def test_fleet_with_reserved_disabled_rented_and_free_floating_bikes_validates(
    client, gbfs_schemas, fleet, finish_trip, settings
):
    settings.GBFS_LANGUAGES = "en,de-DE"
    settings.GBFS_LICENSE_URL = "https://creativecommons.org/licenses/by/4.0/"
    finish_trip(fleet.bike())
    fleet.bike(status=BikeStatus.RESERVED)
    fleet.bike(status=BikeStatus.MAINTENANCE, station="potsdamer")
    fleet.bike(status=BikeStatus.RENTED, station=None, lat=52.5, lon=13.4)
    fleet.bike(status=BikeStatus.RETIRED)
    fleet.bike(station=None, lat=52.515, lon=13.39, model="Cargo 1")
    Tariff.objects.create(name="Yen", unlock_fee=150, price_per_minute=30, daily_cap=2000, currency="JPY")

    bodies = _assert_valid(client, gbfs_schemas)

    vehicles = bodies["vehicle_status"]["data"]["vehicles"]
    assert len(vehicles) == 4
    assert sum(v["is_reserved"] for v in vehicles) == 1
    assert sum(v["is_disabled"] for v in vehicles) == 1


def test_empty_system_validates(client, gbfs_schemas, db):
    bodies = _assert_valid(client, gbfs_schemas)
    assert bodies["system_pricing_plans"]["data"]["plans"] == []


def test_the_schemas_do_catch_a_broken_feed(client, gbfs_schemas, fleet):
    """Guards against a vacuous pass (e.g. a schema that accepts anything)."""
    fleet.bike()
    body = client.get("/gbfs/v3/vehicle_status.json").json()
    del body["data"]["vehicles"][0]["is_reserved"]
    body["last_updated"] = "yesterday"
    errors = schema_errors(gbfs_schemas["vehicle_status"], body)
    assert any("is_reserved" in error for error in errors)
    assert any("last_updated" in error for error in errors)
    assert schema_errors(gbfs_schemas["system_information"], {"version": "2.3"})


def test_fleet_with_conditions_alerts_and_zones_validates(client, gbfs_schemas, fleet, settings):
    from alerts.services import alert_create
    from zones.services import zone_create

    fleet.bike()
    broken = fleet.bike()
    broken.condition = "broken"
    broken.save()
    missing = fleet.bike(station=None, lat=52.5, lon=13.4)
    missing.condition = "missing"
    missing.save()
    summary = [{"text": "Closed", "language": "en"}]
    alert_create(alert_type="SYSTEM_CLOSURE", summary=summary, ends_at=None)
    alert_create(
        alert_type="STATION_CLOSURE",
        summary=summary,
        station_ids=[broken.station_id],
        url=[{"text": "https://velo.example/a", "language": "en"}],
        description=summary,
    )
    ring = [[13.40, 52.51], [13.43, 52.51], [13.43, 52.53], [13.40, 52.53], [13.40, 52.51]]
    zone_create(
        name="No parking", geometry={"type": "MultiPolygon", "coordinates": [[ring]]}, parking_allowed=False
    )
    zone_create(
        name="Slow",
        geometry={"type": "MultiPolygon", "coordinates": [[ring]]},
        maximum_speed_kph=10,
        ride_allowed=False,
    )

    bodies = _assert_valid(client, gbfs_schemas)

    vehicles = bodies["vehicle_status"]["data"]["vehicles"]
    assert len(vehicles) == 2 and sum(v["is_disabled"] for v in vehicles) == 1
    station_counts = [s["num_vehicles_available"] for s in bodies["station_status"]["data"]["stations"]]
    disabled = [s["num_vehicles_disabled"] for s in bodies["station_status"]["data"]["stations"]]
    assert sum(station_counts) == 1 and sum(disabled) == 1
    alerts = bodies["system_alerts"]["data"]["alerts"]
    assert sorted(a["type"] for a in alerts) == ["station_closure", "system_closure"]
    features = bodies["geofencing_zones"]["data"]["geofencing_zones"]["features"]
    rules = {f["properties"]["name"][0]["text"]: f["properties"]["rules"][0] for f in features}
    assert rules["No parking"]["station_parking"] is True and rules["No parking"]["ride_end_allowed"] is True
    assert rules["Slow"]["maximum_speed_kph"] == 10 and rules["Slow"]["ride_start_allowed"] is False
    assert bodies["geofencing_zones"]["data"]["global_rules"][0]["ride_end_allowed"] is True


def test_vehicle_types_carry_propulsion_and_range(client, settings, db):
    settings.GBFS_PROPULSION_TYPE = "electric_assist"
    settings.GBFS_MAX_RANGE_METERS = 60000
    [vehicle_type] = client.get("/gbfs/v3/vehicle_types.json").json()["data"]["vehicle_types"]
    assert (vehicle_type["propulsion_type"], vehicle_type["max_range_meters"]) == ("electric_assist", 60000)
