import pytest

pytestmark = pytest.mark.django_db


def test_stations_list_with_capacity_and_available_counts(rider, make_bike, station, other_station):
    make_bike()
    make_bike()
    make_bike(status="maintenance")
    make_bike(at=other_station)
    body = rider.get("/api/stations").json()
    by_name = {s["name"]: s for s in body["results"]}
    assert by_name["Alexanderplatz"]["available_bikes"] == 2
    assert by_name["Alexanderplatz"]["capacity"] == 10
    assert by_name["Alexanderplatz"]["free_docks"] == 7
    assert by_name["Potsdamer Platz"]["available_bikes"] == 1
    detail = rider.get(f"/api/stations/{station.id}").json()
    assert detail["available_bikes"] == 2


def test_admin_station_crud_and_rider_403(admin, rider):
    payload = {"name": "Ostbahnhof", "lat": 52.5105, "lon": 13.4346, "capacity": 12}
    assert rider.post("/api/stations", payload, format="json").status_code == 403
    created = admin.post("/api/stations", payload, format="json")
    assert created.status_code == 201
    station_id = created.json()["id"]
    assert admin.post("/api/stations", payload, format="json").status_code == 409
    patched = admin.patch(f"/api/stations/{station_id}", {"capacity": 20}, format="json")
    assert patched.json()["capacity"] == 20
    retired = admin.delete(f"/api/stations/{station_id}")
    assert retired.status_code == 200 and retired.json()["is_active"] is False
    assert station_id not in [s["id"] for s in rider.get("/api/stations").json()["results"]]


def test_station_with_bikes_cannot_be_retired(admin, bike, station):
    assert admin.delete(f"/api/stations/{station.id}").status_code == 409


def test_invalid_station_payload_is_400(admin):
    response = admin.post("/api/stations", {"name": "X", "lat": 200, "lon": 0, "capacity": -1}, format="json")
    assert response.status_code == 400
    assert {"lat", "capacity"} <= set(response.json()["errors"])


def test_closed_stations_are_listed_to_admins_who_ask(admin, rider, station, other_station):
    closed = admin.patch(f"/api/stations/{other_station.id}", {"is_active": False}, format="json")
    assert closed.status_code == 200

    def names(client, query=""):
        return [item["name"] for item in client.get(f"/api/stations{query}").json()["results"]]

    assert names(admin) == ["Alexanderplatz"]
    assert names(admin, "?include_inactive=true") == ["Alexanderplatz", "Potsdamer Platz"]
    assert names(rider, "?include_inactive=true") == ["Alexanderplatz"]
    assert admin.get("/api/stations?include_inactive=maybe").status_code == 400
