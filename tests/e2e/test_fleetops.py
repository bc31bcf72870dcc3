"""Fleet operations through the gateway (issue 24): bike condition, rider problem reports, service alerts
and geofencing zones, and their GBFS feeds validated by gbfs-validator.

Black box: HTTP through GATEWAY_URL only (plus the gbfs-validator CLI, as in test_gbfs). Each test works on
its own station and bikes far from the shared e2e station, so a no-parking zone here never touches other
tests' returns. GBFS status feeds may be cached for their ttl, so GBFS checks poll within ttl + margin; the
API answers (rent refused, lists) change with the request that changed the bike.
"""

from __future__ import annotations

import math
import uuid

import pytest
import requests
from e2e_support import assert_problem, rent, wait_billed
from test_gbfs import STATUS_STALENESS_LIMIT, validate

pytestmark = pytest.mark.admin
GBFS_PATIENCE = STATUS_STALENESS_LIMIT + 10
# A quiet corner of the map (Gulf of Guinea), away from every other test's bikes.
BASE_LAT, BASE_LON = 1.0, 3.0


def _station(admin_api, lat_offset: float = 0.0) -> dict:
    response = admin_api.post(
        "/api/stations",
        json={
            "name": f"E2E fleetops {uuid.uuid4().hex[:8]}",
            "lat": BASE_LAT + lat_offset,
            "lon": BASE_LON,
            "capacity": 20,
        },
    )
    assert response.status_code == 201, response.text[:300]
    return response.json()


def _bike(admin_api, station_id: str) -> dict:
    response = admin_api.post(
        "/api/bikes",
        json={"number": f"E2E-F-{uuid.uuid4().hex[:10]}", "model": "e2e", "station_id": station_id},
    )
    assert response.status_code == 201, response.text[:300]
    return response.json()


def _listed(api, station_id: str) -> list[str]:
    response = api.get(f"/api/bikes?station_id={station_id}")
    assert response.status_code == 200, response.text[:300]
    return [bike["id"] for bike in response.json()["results"]]


def _station_status(gateway_url: str, station_id: str) -> dict | None:
    body = requests.get(f"{gateway_url}/gbfs/v3/station_status.json", timeout=10).json()
    return next((s for s in body["data"]["stations"] if s["station_id"] == station_id), None)


def test_brake_report_takes_the_bike_out_and_repair_puts_it_back(
    gateway_url, admin, register_and_confirm, wait_until
):
    operator = admin.api()
    station = _station(operator)
    bike = _bike(operator, station["id"])
    reporter, other = register_and_confirm("reporter").api(), register_and_confirm("renter").api()
    wait_until(
        lambda: (_station_status(gateway_url, station["id"]) or {}).get("num_vehicles_available") == 1,
        GBFS_PATIENCE,
        message="the new bike available in GBFS",
    )

    response = reporter.post(f"/api/bikes/{bike['id']}/problems", json={"category": "brakes", "text": "e2e"})
    assert response.status_code == 201, response.text[:300]
    report = response.json()
    assert (report["unsafe"], report["bike_condition"]) == (True, "needs_check")

    # Out of rentals with that request; out of other riders' lists within a bike-list page's age
    # (BIKE_LIST_MAX_AGE_SECONDS, 0.5 s); out of GBFS within the feed's ttl.
    wait_until(lambda: bike["id"] not in _listed(other, station["id"]), 2, message="the bike off the list")
    assert bike["id"] in _listed(other, f"{station['id']}&condition=needs_check")
    assert_problem(other.post("/api/rentals", json={"bike_id": bike["id"]}), 409, "bike-out-of-service")
    assert_problem(other.post(f"/api/bikes/{bike['id']}/reservation"), 409, "bike-out-of-service")
    status = wait_until(
        lambda: (s := _station_status(gateway_url, station["id"])) and s["num_vehicles_disabled"] == 1 and s,
        GBFS_PATIENCE,
        message="the reported bike disabled in GBFS",
    )
    assert status["num_vehicles_available"] == 0

    listed = operator.get(f"/api/problems?bike_id={bike['id']}").json()["results"]
    assert [item["id"] for item in listed] == [report["id"]]
    response = operator.patch(f"/api/problems/{report['id']}", json={"status": "resolved", "note": "pads"})
    assert response.status_code == 200, response.text[:300]
    response = operator.post(
        f"/api/bikes/{bike['id']}/condition", json={"condition": "ok", "reason": "repaired"}
    )
    assert response.status_code == 200, response.text[:300]
    assert [h["to_condition"] for h in response.json()["history"]] == ["ok", "needs_check"]

    wait_until(lambda: bike["id"] in _listed(other, station["id"]), 2, message="the bike back on the list")
    rental = rent(other, bike["id"])
    response = other.post(f"/api/rentals/{rental['id']}/finish", json={"station_id": station["id"]})
    assert response.status_code == 200, response.text[:300]
    wait_until(
        lambda: (_station_status(gateway_url, station["id"]) or {}).get("num_vehicles_available") == 1,
        GBFS_PATIENCE,
        message="the repaired bike available in GBFS again",
    )


def test_renters_report_waives_the_unlock_fee(admin, register_and_confirm, wait_until):
    operator = admin.api()
    station = _station(operator)
    bike = _bike(operator, station["id"])
    rider = register_and_confirm("waiver").api()
    rental = rent(rider, bike["id"])
    response = rider.post(f"/api/bikes/{bike['id']}/problems", json={"category": "lights"})
    assert response.status_code == 201 and response.json()["rental_id"] == rental["id"]
    finished = rider.post(f"/api/rentals/{rental['id']}/finish", json={"station_id": station["id"]}).json()
    assert finished["unlock_fee_waived"] is True
    billed = wait_billed(rider, rental["id"], wait_until)
    tariff = billed["tariff"]
    minutes = math.ceil(billed["duration_seconds"] / 60)
    expected = minutes * tariff["price_per_minute"]
    if tariff["daily_cap"] is not None:
        expected = min(expected, tariff["daily_cap"])
    assert billed["cost"]["amount"] == expected  # no unlock fee
    operator.post(f"/api/bikes/{bike['id']}/condition", json={"condition": "in_repair", "reason": "e2e done"})


def test_finishing_in_a_no_parking_zone_is_refused_unless_at_a_station(admin, register_and_confirm):
    operator = admin.api()
    station = _station(operator, lat_offset=0.5)
    bike = _bike(operator, station["id"])
    d = 0.01
    ring = [[BASE_LON - d, BASE_LAT - d], [BASE_LON + d, BASE_LAT - d], [BASE_LON + d, BASE_LAT + d],
            [BASE_LON - d, BASE_LAT + d], [BASE_LON - d, BASE_LAT - d]]  # fmt: skip
    response = operator.post(
        "/api/zones",
        json={
            "name": f"E2E no parking {uuid.uuid4().hex[:6]}",
            "geometry": {"type": "MultiPolygon", "coordinates": [[ring]]},
            "parking_allowed": False,
        },
    )
    assert response.status_code == 201, response.text[:300]
    zone = response.json()
    try:
        rider = register_and_confirm("parker").api()
        rental = rent(rider, bike["id"])
        body = assert_problem(
            rider.post(f"/api/rentals/{rental['id']}/finish", json={"lat": BASE_LAT, "lon": BASE_LON}),
            409,
            "parking-not-allowed",
        )
        assert body["zone_id"] == zone["id"]
        assert body["nearest_station"]["id"]
        assert rider.get("/api/rentals/active").json()["id"] == rental["id"]
        response = rider.post(f"/api/rentals/{rental['id']}/finish", json={"station_id": station["id"]})
        assert response.status_code == 200, response.text[:300]
    finally:
        assert operator.delete(f"/api/zones/{zone['id']}").status_code == 204


def test_bad_zones_and_alerts_are_400_and_riders_get_403(admin, register_and_confirm):
    operator = admin.api()
    open_ring = [[[[0, 0], [1, 0], [1, 1], [0, 1]]]]
    assert_problem(
        operator.post(
            "/api/zones", json={"name": "x", "geometry": {"type": "MultiPolygon", "coordinates": open_ring}}
        ),
        400,
        "validation-error",
    )
    assert_problem(
        operator.post(
            "/api/alerts", json={"alert_type": "FLOOD", "summary": [{"text": "x", "language": "en"}]}
        ),
        400,
        "validation-error",
    )
    rider = register_and_confirm("nosy").api()
    assert_problem(rider.get("/api/zones"), 403)
    assert_problem(rider.get("/api/problems"), 403)


def test_alerts_and_zones_appear_in_gbfs_and_validate(gateway_url, admin, tmp_path, wait_until):
    operator = admin.api()
    station = _station(operator, lat_offset=1.0)
    response = operator.post(
        "/api/alerts",
        json={
            "alert_type": "STATION_CLOSURE",
            "station_ids": [station["id"]],
            "summary": [{"text": "E2E closure", "language": "en"}],
            "url": [{"text": "https://velo.example/e2e", "language": "en"}],
        },
    )
    assert response.status_code == 201, response.text[:300]
    alert = response.json()
    ring = [[BASE_LON + 2, BASE_LAT], [BASE_LON + 2.01, BASE_LAT], [BASE_LON + 2.01, BASE_LAT + 0.01],
            [BASE_LON + 2, BASE_LAT]]  # fmt: skip
    name = f"E2E slow {uuid.uuid4().hex[:6]}"
    response = operator.post(
        "/api/zones",
        json={
            "name": name,
            "geometry": {"type": "MultiPolygon", "coordinates": [[ring]]},
            "maximum_speed_kph": 15,
        },
    )
    assert response.status_code == 201, response.text[:300]
    zone = response.json()
    try:
        discovery = requests.get(f"{gateway_url}/gbfs/v3/gbfs.json", timeout=10).json()
        names = {feed["name"] for feed in discovery["data"]["feeds"]}
        assert {"system_alerts", "geofencing_zones"} <= names

        def published():
            alerts = requests.get(f"{gateway_url}/gbfs/v3/system_alerts.json", timeout=10).json()
            zones = requests.get(f"{gateway_url}/gbfs/v3/geofencing_zones.json", timeout=10).json()
            features = zones["data"]["geofencing_zones"]["features"]
            return any(a["alert_id"] == alert["id"] for a in alerts["data"]["alerts"]) and any(
                f["properties"]["name"][0]["text"] == name for f in features
            )

        wait_until(published, GBFS_PATIENCE, message="the alert and the zone in GBFS")
        report = validate(tmp_path, "fleetops")
        present = {entry["file"] for entry in report["files"] if entry.get("exists")}
        assert {"system_alerts.json", "geofencing_zones.json"} <= present
    finally:
        assert operator.delete(f"/api/alerts/{alert['id']}").status_code == 204
        assert operator.delete(f"/api/zones/{zone['id']}").status_code == 204
