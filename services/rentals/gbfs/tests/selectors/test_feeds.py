import pytest
from django.utils import timezone
from fleet.models import BikeStatus, Station

from gbfs import selectors
from gbfs.conf import gbfs_config

pytestmark = pytest.mark.django_db


def _vehicles():
    return selectors.vehicle_status_data(config=gbfs_config())["vehicles"]


def _by_station(data):
    return {station["station_id"]: station for station in data["stations"]}


def test_vehicle_status_shows_parked_bikes_with_reserved_and_disabled_flags(fleet):
    available = fleet.bike()
    reserved = fleet.bike(status=BikeStatus.RESERVED)
    maintenance = fleet.bike(status=BikeStatus.MAINTENANCE, station="potsdamer")
    fleet.bike(status=BikeStatus.RENTED, station=None, lat=52.5, lon=13.4)
    fleet.bike(status=BikeStatus.RETIRED)
    config = gbfs_config()

    vehicles = {vehicle["vehicle_id"]: vehicle for vehicle in _vehicles()}

    def public(bike):
        return vehicles[selectors.vehicle_public_id(config=config, bike_id=bike.id, last_trip_id=None)]

    assert len(vehicles) == 3  # the rented and the retired bike never appear
    assert public(available) == {
        "vehicle_id": public(available)["vehicle_id"],
        "is_reserved": False,
        "is_disabled": False,
        "vehicle_type_id": selectors.VEHICLE_TYPE_ID,
        "lat": fleet.alex.lat,
        "lon": fleet.alex.lon,
        "station_id": str(fleet.alex.id),
    }
    assert public(reserved)["is_reserved"] is True and public(reserved)["is_disabled"] is False
    assert public(maintenance)["is_disabled"] is True and public(maintenance)["is_reserved"] is False
    assert public(maintenance)["station_id"] == str(fleet.potsdamer.id)


def test_vehicle_ids_never_leak_internal_ids_or_numbers(fleet):
    bikes = [fleet.bike() for _ in range(3)]
    body = str(_vehicles())
    for bike in bikes:
        assert str(bike.id) not in body
        assert bike.id.hex not in body
        assert bike.number not in body


def test_vehicle_id_is_stable_between_trips_and_rotates_after_each_trip(fleet, finish_trip):
    bike = fleet.bike()
    first = _vehicles()[0]["vehicle_id"]
    assert _vehicles()[0]["vehicle_id"] == first  # no trip, no change

    finish_trip(bike)
    second = _vehicles()[0]["vehicle_id"]
    finish_trip(bike)
    third = _vehicles()[0]["vehicle_id"]

    assert len({first, second, third}) == 3


def test_vehicle_id_depends_on_the_secret(fleet, settings):
    fleet.bike()
    settings.GBFS_VEHICLE_ID_SECRET = "one"
    first = _vehicles()[0]["vehicle_id"]
    settings.GBFS_VEHICLE_ID_SECRET = "two"
    assert _vehicles()[0]["vehicle_id"] != first


def test_free_floating_bike_has_position_and_no_station(fleet):
    fleet.bike(station=None, lat=52.51, lon=13.40)
    fleet.bike(station=None)  # neither station nor position: nowhere to show it

    vehicles = _vehicles()

    assert len(vehicles) == 1
    assert vehicles[0]["lat"] == 52.51 and vehicles[0]["lon"] == 13.40
    assert "station_id" not in vehicles[0]


def test_vehicles_are_not_ordered_by_bike_number(fleet):
    for _ in range(12):
        fleet.bike()
    ids = [vehicle["vehicle_id"] for vehicle in _vehicles()]
    assert ids == sorted(ids)


def test_station_status_counts(fleet):
    fleet.bike()
    fleet.bike()
    fleet.bike(status=BikeStatus.RESERVED)
    fleet.bike(status=BikeStatus.MAINTENANCE)
    fleet.bike(status=BikeStatus.RETIRED)
    fleet.bike(status=BikeStatus.AVAILABLE, model="Cargo 1", station="potsdamer")
    Station.objects.create(name="GBFS retired", lat=52.0, lon=13.0, capacity=5, is_active=False)

    stations = _by_station(selectors.station_status_data(now=timezone.now()))

    assert set(stations) == {str(fleet.alex.id), str(fleet.potsdamer.id)}
    alex = stations[str(fleet.alex.id)]
    assert alex["num_vehicles_available"] == 2
    assert alex["num_vehicles_disabled"] == 1
    assert alex["num_docks_available"] == 0  # capacity 4: two available, one reserved, one in maintenance
    assert alex["vehicle_types_available"] == [{"vehicle_type_id": selectors.VEHICLE_TYPE_ID, "count": 2}]
    potsdamer = stations[str(fleet.potsdamer.id)]
    assert potsdamer["num_vehicles_available"] == 1
    assert potsdamer["num_docks_available"] == 9
    assert potsdamer["vehicle_types_available"] == [
        {"vehicle_type_id": selectors.VEHICLE_TYPE_ID, "count": 1}
    ]
    assert alex["is_installed"] and alex["is_renting"] and alex["is_returning"]


def test_station_with_more_bikes_than_docks_has_no_negative_docks(fleet):
    for _ in range(6):
        fleet.bike()
    alex = _by_station(selectors.station_status_data(now=timezone.now()))[str(fleet.alex.id)]
    assert alex["num_docks_available"] == 0
    assert alex["num_vehicles_available"] == 6


def test_station_information_lists_active_stations(fleet):
    Station.objects.create(name="GBFS retired", lat=52.0, lon=13.0, capacity=5, is_active=False)
    stations = selectors.station_information_data(config=gbfs_config())["stations"]
    assert [station["name"] for station in stations] == [
        [{"text": "GBFS Alex", "language": "en"}],
        [{"text": "GBFS Potsdamer", "language": "en"}],
    ]
    assert stations[0] == {
        "station_id": str(fleet.alex.id),
        "name": [{"text": "GBFS Alex", "language": "en"}],
        "lat": fleet.alex.lat,
        "lon": fleet.alex.lon,
        "capacity": 4,
    }


def test_one_vehicle_type_pointing_at_the_plan_in_force(fleet, settings):
    settings.GBFS_VEHICLE_TYPE_NAME = "City bike"
    fleet.bike(model="Cargo 1")

    types = selectors.vehicle_types_data(config=gbfs_config())["vehicle_types"]

    assert types == [
        {
            "vehicle_type_id": "bicycle",
            "form_factor": "bicycle",
            "propulsion_type": "human",
            "name": [{"text": "City bike", "language": "en"}],
            "wheel_count": 2,
            "rider_capacity": 1,
            "default_pricing_plan_id": "standard",
            "pricing_plan_ids": ["standard"],
        }
    ]


def test_without_a_tariff_the_vehicle_type_names_no_plan(db):
    (vehicle_type,) = selectors.vehicle_types_data(config=gbfs_config())["vehicle_types"]
    assert "default_pricing_plan_id" not in vehicle_type


def test_system_information_is_configurable(settings):
    settings.GBFS_SYSTEM_ID = "velo-berlin"
    settings.GBFS_SYSTEM_NAME = "Velo Berlin"
    settings.GBFS_OPERATOR = "Velo GmbH"
    settings.GBFS_TIMEZONE = "Europe/Paris"
    settings.GBFS_LANGUAGES = "de,en"
    settings.GBFS_OPENING_HOURS = "Mo-Su 05:00-24:00"
    settings.GBFS_FEED_CONTACT_EMAIL = "open-data@velo.example"
    settings.GBFS_LICENSE_URL = "https://creativecommons.org/licenses/by/4.0/"

    data = selectors.system_information_data(config=gbfs_config())

    assert data == {
        "system_id": "velo-berlin",
        "languages": ["de", "en"],
        "name": [{"text": "Velo Berlin", "language": "de"}, {"text": "Velo Berlin", "language": "en"}],
        "operator": [{"text": "Velo GmbH", "language": "de"}, {"text": "Velo GmbH", "language": "en"}],
        "opening_hours": "Mo-Su 05:00-24:00",
        "feed_contact_email": "open-data@velo.example",
        "timezone": "Europe/Paris",
        "license_url": "https://creativecommons.org/licenses/by/4.0/",
    }


def test_system_information_defaults_and_env(monkeypatch):
    monkeypatch.setenv("GBFS_SYSTEM_NAME", "From Env")
    data = selectors.system_information_data(config=gbfs_config())
    assert data["name"] == [{"text": "From Env", "language": "en"}]
    assert data["system_id"] == "velo"
    assert data["timezone"] == "Europe/Berlin"
    assert data["opening_hours"] == "24/7"
    assert "license_url" not in data


def test_pricing_plan_is_the_tariff_in_force(fleet):
    from fleet.models import Tariff

    Tariff.objects.create(name="Old", unlock_fee=1, price_per_minute=1, currency="EUR", is_active=False)
    plans = selectors.system_pricing_plans_data(config=gbfs_config())["plans"]
    assert len(plans) == 1
    plan = plans[0]
    assert plan["plan_id"] == "standard"
    assert plan["name"] == [{"text": fleet.tariff.name, "language": "en"}]
    assert plan["currency"] == "EUR"
    assert plan["price"] == 1
    assert plan["is_taxable"] is False
    assert plan["per_min_pricing"][0] == {"start": 0, "rate": 0.25, "interval": 1, "end": 80}
    assert "20.00 EUR per 24 hours" in plan["description"][0]["text"]


def test_no_tariff_no_plans(db):
    assert selectors.system_pricing_plans_data(config=gbfs_config()) == {"plans": []}
