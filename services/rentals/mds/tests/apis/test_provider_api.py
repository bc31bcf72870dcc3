"""The MDS 2.0 Provider endpoints: every answer validated against the official provider.yaml, plus the
access, version-negotiation and hourly (404 / 202 / 200) rules."""

import datetime as dt
import uuid

import pytest
from django.conf import settings
from fleet.services import bike_condition_set, bike_create
from rentals.costs import tariff_snapshot_cost
from rentals.models import Rental
from rentals.services import rental_apply_invoice
from rest_framework.test import APIClient

from mds import clock
from mds.tests.provider_spec import assert_valid, provider_paths

pytestmark = pytest.mark.django_db

ACCEPT = "application/vnd.mds+json;version=2.0"


def _hour(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H")


def _hour_start(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


@pytest.fixture
def agency_token(make_token):
    def _make(provider_id=None, roles=("agency",)):
        return make_token(roles=roles, extra={"provider_id": str(provider_id or settings.MDS_PROVIDER_ID)})

    return _make


@pytest.fixture
def agency(agency_token) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {agency_token()}", HTTP_ACCEPT=ACCEPT)
    return client


@pytest.fixture
def trip(rider, station, other_station, tariff):
    """A bike placed through the fleet service, rented and returned at another station by a rider."""
    bike = bike_create(number=f"M-{uuid.uuid4().hex[:6]}", model="Velo City 3", station_id=station.id)
    rental_id = rider.post("/api/rentals", {"bike_id": str(bike.id)}, format="json").json()["id"]
    response = rider.post(
        f"/api/rentals/{rental_id}/finish", {"station_id": str(other_station.id)}, format="json"
    )
    assert response.status_code == 200, response.content
    return Rental.objects.get(id=rental_id)


def _bill(rental: Rental) -> int:
    amount, currency = tariff_snapshot_cost(
        tariff_snapshot=rental.tariff_snapshot, duration_seconds=rental.duration_seconds
    )
    rental_apply_invoice(
        rental_id=rental.id,
        user_id=rental.user_id,
        invoice_id=uuid.uuid4(),
        amount=amount,
        currency=currency,
        s3_key="invoices/x.json",
    )
    return amount


def _after_hour_of(monkeypatch, moment: dt.datetime, seconds: float = 10) -> None:
    later = _hour_start(moment) + dt.timedelta(hours=1, seconds=seconds)
    monkeypatch.setattr(clock, "now", lambda: later)


def test_the_trip_and_its_two_events_appear_in_their_hour(agency, trip, monkeypatch, station, other_station):
    cost = _bill(trip)
    _after_hour_of(monkeypatch, trip.ended_at)

    response = agency.get("/mds/trips", {"end_time": _hour(trip.ended_at)})
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == ACCEPT
    assert_valid("/trips", response.json())
    (found,) = [t for t in response.json()["trips"] if t["trip_id"] == str(trip.id)]
    assert found["device_id"] == str(trip.bike_id)
    assert found["start_location"] == {"lat": station.lat, "lng": station.lon}
    assert found["end_location"] == {"lat": other_station.lat, "lng": other_station.lon}
    assert found["duration"] == trip.duration_seconds
    assert 2_500 < found["distance"] < 3_000  # Alexanderplatz to Potsdamer Platz, straight line
    assert (found["actual_cost"], found["currency"]) == (cost, "EUR")
    assert found["end_time"] - found["start_time"] >= 0

    response = agency.get("/mds/events/historical", {"event_time": _hour(trip.ended_at)})
    assert response.status_code == 200, response.content
    assert_valid("/events/historical", response.json())
    events = [e for e in response.json()["events"] if e.get("trip_ids") == [str(trip.id)]]
    assert [(e["event_types"], e["vehicle_state"], e["device_id"]) for e in events] == [
        (["trip_start"], "on_trip", str(trip.bike_id)),
        (["trip_end"], "available", str(trip.bike_id)),
    ]
    assert events[1]["timestamp"] == found["end_time"]


def test_an_hour_with_unbilled_trips_stays_open_until_mds_hour_close_seconds(agency, trip, monkeypatch):
    _after_hour_of(monkeypatch, trip.ended_at)
    hour = _hour(trip.ended_at)
    assert agency.get("/mds/trips", {"end_time": hour}).status_code == 202
    assert agency.get("/mds/events/historical", {"event_time": hour}).status_code == 202
    _after_hour_of(monkeypatch, trip.ended_at, seconds=settings.MDS_HOUR_CLOSE_SECONDS + 1)
    response = agency.get("/mds/trips", {"end_time": hour})
    assert response.status_code == 200
    (found,) = [t for t in response.json()["trips"] if t["trip_id"] == str(trip.id)]
    assert "actual_cost" not in found
    assert_valid("/trips", response.json())


@pytest.mark.parametrize(
    ("path", "param"), [("/mds/trips", "end_time"), ("/mds/events/historical", "event_time")]
)
def test_hourly_rules(agency, path, param):
    now = clock.now()
    future = agency.get(path, {param: _hour(now + dt.timedelta(hours=2))})
    assert future.status_code == 404
    assert future["Content-Type"] == "application/problem+json"
    assert agency.get(path, {param: _hour(now)}).status_code == 202
    empty = agency.get(path, {param: "2020-01-01T00"})
    assert empty.status_code == 200
    key = "trips" if "trips" in path else "events"
    assert empty.json() == {"version": "2.0.0", key: []}
    assert_valid(path.removeprefix("/mds"), empty.json())
    for bad in ("", "2024-02-30T00", "2024-01-01T24", "2024-01-01", "yesterday"):
        response = agency.get(path, {param: bad})
        assert response.status_code == 400, bad
        assert response["Content-Type"] == "application/problem+json"
    assert agency.get(path).status_code == 400


def test_recent_events(agency, trip):
    now_ms = int(clock.now().timestamp() * 1000)
    response = agency.get("/mds/events/recent", {"start_time": now_ms - 3_600_000, "end_time": now_ms + 1000})
    assert response.status_code == 200, response.content
    assert_valid("/events/recent", response.json())
    types = [e["event_types"][0] for e in response.json()["events"] if e["device_id"] == str(trip.bike_id)]
    assert types == ["provider_drop_off", "trip_start", "trip_end"]
    two_weeks_ago = now_ms - 15 * 24 * 3_600_000
    for params in (
        {"start_time": two_weeks_ago, "end_time": now_ms},
        {"start_time": now_ms, "end_time": now_ms - 1},
        {"start_time": "soon", "end_time": now_ms},
        {"start_time": now_ms, "end_time": "9" * 15},
        {"start_time": "-1", "end_time": now_ms},
        {"end_time": now_ms},
        {"start_time": now_ms},
    ):
        response = agency.get("/mds/events/recent", params)
        assert response.status_code == 400, params
        assert response["Content-Type"] == "application/problem+json"


def test_vehicles_and_their_status(agency, trip, station):
    broken = bike_create(number="M-BROKEN", model="Velo City 3", station_id=station.id)
    bike_condition_set(bike_id=broken.id, condition="in_repair", reason="test", changed_by=None)

    response = agency.get("/mds/vehicles")
    assert response.status_code == 200
    assert_valid("/vehicles", response.json())
    assert {v["device_id"] for v in response.json()["vehicles"]} >= {str(trip.bike_id), str(broken.id)}

    response = agency.get(f"/mds/vehicles/{trip.bike_id}")
    assert response.status_code == 200
    assert_valid("/vehicles/{device_id}", response.json())
    assert response.json()["vehicles"][0]["vehicle_id"] == trip.bike_number

    response = agency.get("/mds/vehicles/status")
    assert response.status_code == 200
    assert_valid("/vehicles/status", response.json())
    by_device = {s["device_id"]: s for s in response.json()["vehicles_status"]}
    assert by_device[str(trip.bike_id)]["last_event"]["event_types"] == ["trip_end"]
    assert by_device[str(broken.id)]["last_event"]["vehicle_state"] == "removed"

    response = agency.get(f"/mds/vehicles/status/{broken.id}")
    assert response.status_code == 200
    assert_valid("/vehicles/status/{device_id}", response.json())

    for path in ("/mds/vehicles/", "/mds/vehicles/status/"):
        assert agency.get(f"{path}{uuid.uuid4()}").status_code == 404
        response = agency.get(f"{path}not-a-uuid")
        assert response.status_code == 400
        assert response["Content-Type"] == "application/problem+json"


def test_stops(agency, trip, station, other_station):
    response = agency.get("/mds/stops")
    assert response.status_code == 200
    assert_valid("/stops", response.json())
    stops = {s["stop_id"]: s for s in response.json()["stops"]}
    assert stops[str(other_station.id)]["devices"] == [str(trip.bike_id)]
    assert stops[str(other_station.id)]["num_vehicles_available"] == {"bicycle": 1}
    response = agency.get(f"/mds/stops/{station.id}")
    assert response.status_code == 200
    assert_valid("/stops/{stop_id}", response.json())
    assert agency.get(f"/mds/stops/{uuid.uuid4()}").status_code == 404


@pytest.mark.parametrize(
    "accept",
    [None, "application/json", "*/*", "application/vnd.mds+json", "application/vnd.mds+json;version=1.2"],
)
def test_other_versions_are_not_acceptable(agency, accept):
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=agency._credentials["HTTP_AUTHORIZATION"], **headers)
    response = client.get("/mds/vehicles")
    assert response.status_code == 406
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 406


def test_a_list_of_media_ranges_with_mds_2_0_is_acceptable(agency):
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=agency._credentials["HTTP_AUTHORIZATION"],
        HTTP_ACCEPT='application/json;q=0.5, application/vnd.mds+json; version="2.0"',
    )
    assert client.get("/mds/stops").status_code == 200


def test_only_agencies_of_this_provider_get_in(client_for, agency_token, admin):
    anonymous = APIClient().get("/mds/vehicles", HTTP_ACCEPT=ACCEPT)
    assert anonymous.status_code == 401
    assert anonymous["Content-Type"] == "application/problem+json"
    for client in (client_for(uuid.uuid4()), admin):
        response = client.get("/mds/vehicles", HTTP_ACCEPT=ACCEPT)
        assert response.status_code == 403
        assert response["Content-Type"] == "application/problem+json"
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {agency_token(provider_id=uuid.uuid4())}")
    assert other.get("/mds/vehicles", HTTP_ACCEPT=ACCEPT).status_code == 403


def test_every_provider_path_served_here_is_in_the_official_description():
    served = {
        "/vehicles",
        "/vehicles/{device_id}",
        "/vehicles/status",
        "/vehicles/status/{device_id}",
        "/trips",
        "/events/historical",
        "/events/recent",
        "/stops",
        "/stops/{stop_id}",
        "/reports/{filename}",
    }
    assert served <= provider_paths()


def test_telemetry_is_not_offered(agency):
    # Bikes report no position track (services/rentals/README.md): the path is in provider.yaml, not served.
    response = agency.get("/mds/telemetry", {"telemetry_time": "2020-01-01T00"})
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
