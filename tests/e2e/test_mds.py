"""MDS 2.0 Provider API through the gateway (issue 25): an operator creates an agency client, the agency
gets a token from auth, a rider rents and returns a bike, and the trip's two events (and the trip, once its
hour is closed) are served under /mds/ with matching ids. Black box: HTTP through GATEWAY_URL only."""

from __future__ import annotations

import datetime as dt
import time
import uuid

import pytest
import requests
from e2e_support import Api, assert_problem

ACCEPT = {"Accept": "application/vnd.mds+json;version=2.0"}


def _ms(value: str) -> int:
    moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return int(moment.timestamp() * 1000)


def _hour(value: str) -> str:
    moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H")


@pytest.fixture(scope="module")
def agency_client(gateway_url, admin):
    api = admin.api()
    response = api.post("/api/auth/agencies", json={"name": f"E2E city {uuid.uuid4().hex[:8]}"})
    assert response.status_code == 201, response.text[:300]
    created = response.json()
    yield created
    api.delete(f"/api/auth/agencies/{created['id']}")


def _agency_token(gateway_url: str, client: dict) -> requests.Response:
    return requests.post(
        f"{gateway_url}/api/auth/token/agency",
        json={"client_id": client["id"], "client_secret": client["client_secret"]},
        timeout=10,
    )


@pytest.fixture(scope="module")
def agency(gateway_url, agency_client) -> Api:
    response = _agency_token(gateway_url, agency_client)
    assert response.status_code == 200, response.text[:300]
    return Api(gateway_url, response.json()["access"])


def test_a_trip_and_its_two_events_are_served_to_the_agency(agency, rider, fleet, wait_until):
    bike = fleet.create_bike()
    station_id = fleet.station_id()
    api = rider.api()
    rented = api.post("/api/rentals", json={"bike_id": bike["id"]})
    assert rented.status_code == 201, rented.text[:300]
    rental = rented.json()
    time.sleep(1.1)
    finished = api.post(f"/api/rentals/{rental['id']}/finish", json={"station_id": station_id})
    assert finished.status_code == 200, finished.text[:300]
    rental = finished.json()

    start_ms, end_ms = _ms(rental["started_at"]), _ms(rental["ended_at"])
    recent = agency.get(
        "/mds/events/recent",
        params={"start_time": start_ms - 1000, "end_time": end_ms + 1000},
        headers=ACCEPT,
    )
    assert recent.status_code == 200, recent.text[:300]
    assert recent.headers["Content-Type"].startswith("application/vnd.mds+json")
    assert recent.json()["version"] == "2.0.0"
    # The bike's own events in that window: its creation (moments before) and the trip's two.
    events = [e for e in recent.json()["events"] if e["device_id"] == bike["id"] and e.get("trip_ids")]
    assert [(e["event_types"], e["vehicle_state"], e.get("trip_ids")) for e in events] == [
        (["trip_start"], "on_trip", [rental["id"]]),
        (["trip_end"], "available", [rental["id"]]),
    ]
    assert [e["timestamp"] for e in events] == [start_ms, end_ms]

    # The hour the trip ended in: 202 while it is open (until it ends and the trip is billed), then
    # the trip and both events, with the same ids.
    hour = _hour(rental["ended_at"])
    trips = agency.get("/mds/trips", params={"end_time": hour}, headers=ACCEPT)
    historical = agency.get("/mds/events/historical", params={"event_time": hour}, headers=ACCEPT)
    assert trips.status_code in (200, 202), trips.text[:300]
    assert historical.status_code in (200, 202), historical.text[:300]
    if trips.status_code == 200:
        (trip,) = [t for t in trips.json()["trips"] if t["trip_id"] == rental["id"]]
        assert trip["device_id"] == bike["id"]
        assert (trip["start_time"], trip["end_time"]) == (start_ms, end_ms)
    if historical.status_code == 200:
        ids = {e["event_id"] for e in historical.json()["events"]}
        assert {e["event_id"] for e in events if _hour_of_ms(e["timestamp"]) == hour} <= ids

    status = agency.get(f"/mds/vehicles/status/{bike['id']}", headers=ACCEPT)
    assert status.status_code == 200, status.text[:300]
    assert status.json()["vehicles_status"][0]["last_event"]["event_types"] == ["trip_end"]
    vehicle = agency.get(f"/mds/vehicles/{bike['id']}", headers=ACCEPT)
    assert vehicle.status_code == 200 and vehicle.json()["vehicles"][0]["vehicle_id"] == bike["number"]
    stop = agency.get(f"/mds/stops/{station_id}", headers=ACCEPT)
    assert stop.status_code == 200 and bike["id"] in stop.json()["stops"][0]["devices"]


def _hour_of_ms(value: int) -> str:
    return dt.datetime.fromtimestamp(value / 1000, dt.UTC).strftime("%Y-%m-%dT%H")


def test_version_hours_and_access_rules(agency, rider, gateway_url):
    assert_problem(agency.get("/mds/vehicles"), 406)
    assert_problem(
        agency.get("/mds/vehicles", headers={"Accept": "application/vnd.mds+json;version=1.2"}), 406
    )
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H")
    assert_problem(agency.get("/mds/trips", params={"end_time": future}, headers=ACCEPT), 404)
    current = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H")
    assert agency.get(
        "/mds/events/historical", params={"event_time": current}, headers=ACCEPT
    ).status_code in (
        202,
        200,  # the hour turned between the two reads
    )
    empty = agency.get("/mds/trips", params={"end_time": "2019-01-01T00"}, headers=ACCEPT)
    assert empty.status_code == 200 and empty.json()["trips"] == []
    assert_problem(agency.get("/mds/trips", params={"end_time": "yesterday"}, headers=ACCEPT), 400)
    weeks_ago = int((time.time() - 15 * 86400) * 1000)
    assert_problem(
        agency.get(
            "/mds/events/recent", params={"start_time": weeks_ago, "end_time": weeks_ago + 1}, headers=ACCEPT
        ),
        400,
    )
    assert_problem(rider.api().get("/mds/vehicles", headers=ACCEPT), 403)
    assert_problem(Api(gateway_url).get("/mds/vehicles", headers=ACCEPT), 401)


def test_a_revoked_agency_client_gets_no_token_and_its_token_is_refused(gateway_url, admin, wait_until):
    api = admin.api()
    created = api.post("/api/auth/agencies", json={"name": f"E2E revoked {uuid.uuid4().hex[:8]}"}).json()
    issued = _agency_token(gateway_url, created)
    assert issued.status_code == 200
    agency = Api(gateway_url, issued.json()["access"])
    assert agency.get("/mds/stops", headers=ACCEPT).status_code == 200
    assert api.delete(f"/api/auth/agencies/{created['id']}").status_code == 204
    assert_problem(_agency_token(gateway_url, created), 401)
    # The unexpired token stops working once rentals applied auth's agency_client.revoked (seconds).
    wait_until(lambda: agency.get("/mds/stops", headers=ACCEPT).status_code == 401, timeout=30)
    refused = agency.get("/mds/stops", headers=ACCEPT)
    assert_problem(refused, 401)
    assert "revoked" in refused.json()["detail"]
