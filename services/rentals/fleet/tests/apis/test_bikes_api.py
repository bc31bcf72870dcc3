import base64
import json
import uuid

import pytest

from fleet.models import Bike, BikeStatus

pytestmark = pytest.mark.django_db


def test_list_defaults_to_available_bikes(rider, make_bike):
    available = make_bike()
    make_bike(status="maintenance")
    make_bike(status="rented", at=None)
    response = rider.get("/api/bikes")
    assert response.status_code == 200
    body = response.json()
    assert [b["id"] for b in body["results"]] == [str(available.id)]
    fields = {"id", "number", "model", "status", "condition", "station_id", "lat", "lon"}
    assert set(body["results"][0]) == fields
    assert body["next"] is None and body["previous"] is None


def test_filter_by_status_list_and_station(rider, make_bike, station, other_station):
    here = make_bike()
    there = make_bike(at=other_station)
    broken = make_bike(status="maintenance")
    response = rider.get("/api/bikes", {"status": "available,maintenance"})
    assert {b["id"] for b in response.json()["results"]} == {str(here.id), str(there.id), str(broken.id)}
    response = rider.get("/api/bikes", {"station_id": str(other_station.id)})
    assert [b["id"] for b in response.json()["results"]] == [str(there.id)]


def test_invalid_filters_are_400(rider):
    for params in ({"status": "flying"}, {"station_id": "x"}, {"lat": "52.5"}, {"lat": "100", "lon": "13"}):
        response = rider.get("/api/bikes", params)
        assert response.status_code == 400, params
        assert response.json()["type"].endswith("/validation-error")


def test_nearest_first_and_paginated(rider, make_bike, station, other_station):
    far = [make_bike(at=other_station) for _ in range(2)]
    near = [make_bike(at=station) for _ in range(2)]
    params = {"lat": station.lat, "lon": station.lon, "page_size": 1}
    seen = []
    url, query = "/api/bikes", params
    while url:
        body = rider.get(url, query).json()
        seen += [b["id"] for b in body["results"]]
        url, query = body["next"], None
    assert set(seen[:2]) == {str(b.id) for b in near}
    assert set(seen[2:]) == {str(b.id) for b in far}
    assert len(seen) == 4


def test_cursor_pagination_forward_and_back_is_stable_under_inserts(rider, make_bike):
    bikes = [make_bike(number=f"P-{i:03d}") for i in range(5)]
    first = rider.get("/api/bikes", {"page_size": 2}).json()
    assert [b["number"] for b in first["results"]] == ["P-000", "P-001"]
    make_bike(number="P-000a")  # inserted before the cursor: must not shift the next page
    second = rider.get(first["next"]).json()
    assert [b["number"] for b in second["results"]] == ["P-002", "P-003"]
    back = rider.get(second["previous"]).json()
    assert [b["number"] for b in back["results"]] == ["P-000a", "P-001"]
    assert len(bikes) == 5


def _cursor(values, direction="n"):
    raw = json.dumps({"v": values, "d": direction}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_bad_cursor_and_page_size_are_400(rider):
    assert rider.get("/api/bikes", {"cursor": "garbage!!"}).status_code == 400
    for cursor, params in (
        (_cursor([7, str(uuid.uuid4())]), {}),
        (_cursor(["P-1", "not-a-uuid"]), {}),
        (_cursor(["P-1\x00", str(uuid.uuid4())]), {}),
        (_cursor(["near", str(uuid.uuid4())]), {"lat": 52.5, "lon": 13.4}),
        (_cursor([float("nan"), str(uuid.uuid4())], "p"), {"lat": 52.5, "lon": 13.4}),
        (_cursor([float("inf"), str(uuid.uuid4())]), {"lat": 52.5, "lon": 13.4}),
        (_cursor([None, str(uuid.uuid4())], "p"), {}),
    ):
        response = rider.get("/api/bikes", {"cursor": cursor, **params})
        assert response.status_code == 400, cursor
        assert response["Content-Type"] == "application/problem+json"
    assert rider.get("/api/bikes", {"page_size": "0"}).status_code == 400
    assert rider.get("/api/bikes", {"page_size": "101"}).status_code == 400


def test_detail(rider, bike):
    response = rider.get(f"/api/bikes/{bike.id}")
    assert response.status_code == 200
    assert response.json()["number"] == bike.number


def test_rider_cannot_write(rider, bike):
    assert rider.post("/api/bikes", {"number": "X", "model": "Y"}, format="json").status_code == 403
    assert rider.patch(f"/api/bikes/{bike.id}", {"model": "Y"}, format="json").status_code == 403
    response = rider.delete(f"/api/bikes/{bike.id}")
    assert response.status_code == 403
    assert response.json()["type"].endswith("/forbidden")


def test_admin_creates_edits_and_retires(admin, station):
    response = admin.post(
        "/api/bikes", {"number": "VELO-9999", "model": "City", "station_id": str(station.id)}, format="json"
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["status"] == "available" and created["lat"] == station.lat
    response = admin.patch(f"/api/bikes/{created['id']}", {"status": "maintenance"}, format="json")
    assert response.json()["status"] == "maintenance"
    response = admin.delete(f"/api/bikes/{created['id']}")
    assert response.status_code == 200
    assert response.json()["status"] == "retired"


def test_duplicate_number_is_409(admin, bike):
    response = admin.post("/api/bikes", {"number": bike.number, "model": "City"}, format="json")
    assert response.status_code == 409


def test_admin_create_with_unknown_station_is_400(admin):
    response = admin.post(
        "/api/bikes", {"number": "N-1", "model": "City", "station_id": str(uuid.uuid4())}, format="json"
    )
    assert response.status_code == 400
    assert "station_id" in response.json()["errors"]


def test_rented_bike_cannot_be_retired_or_put_in_maintenance(admin, make_bike):
    rented = make_bike(status=BikeStatus.RENTED, at=None)
    response = admin.delete(f"/api/bikes/{rented.id}")
    assert response.status_code == 409
    assert admin.patch(f"/api/bikes/{rented.id}", {"status": "maintenance"}, format="json").status_code == 409
    assert Bike.objects.get(id=rented.id).status == BikeStatus.RENTED


def test_admin_create_is_idempotent(admin):
    payload = {"number": "IDEM-1", "model": "City"}
    first = admin.post("/api/bikes", payload, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    again = admin.post("/api/bikes", payload, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Bike.objects.filter(number="IDEM-1").count() == 1
    other = admin.post(
        "/api/bikes", {"number": "IDEM-2", "model": "City"}, format="json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert other.status_code == 422
    assert other.json()["type"].endswith("/idempotency-key-reused")


def test_list_items_are_exactly_what_the_bike_serializer_gives(rider, make_bike, station):
    from fleet.apis import BikeOutputSerializer

    make_bike()
    make_bike(status=BikeStatus.MAINTENANCE)
    Bike.objects.create(number="FREE-1", model="Free floater", lat=52.5, lon=13.4)
    Bike.objects.create(number="NOWHERE-1", model="Lost")
    listed = rider.get("/api/bikes", {"status": "available,maintenance"}).json()["results"]
    expected = BikeOutputSerializer(Bike.objects.order_by("number", "id"), many=True).data
    assert listed == [dict(item) for item in expected]
    assert {item["station_id"] is None for item in listed} == {True, False}
