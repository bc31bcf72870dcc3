import datetime as dt
import uuid

import pytest
from fleet.models import Bike, BikeStatus
from riders.services import rider_set_deactivated
from wallets.models import Wallet

from reservations.models import Reservation, ReservationStatus
from reservations.tests.conftest import T0, events

pytestmark = pytest.mark.django_db

US = dt.timedelta(microseconds=1)


def _problem(response, status, slug):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == f"https://velo.example/problems/{slug}"


def _url(bike_id) -> str:
    return f"/api/bikes/{bike_id}/reservation"


def _reserve(client, bike, **extra):
    return client.post(_url(bike.id), **extra)


def _parse(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_reserve_returns_201_with_expiry(clock, rider, bike, settings):
    settings.RESERVATION_MINUTES = 10
    response = _reserve(rider, bike)
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "bike_id", "status", "created_at", "expires_at"}
    assert body["bike_id"] == str(bike.id)
    assert body["status"] == "open"
    assert _parse(body["created_at"]) == T0
    assert _parse(body["expires_at"]) == T0 + dt.timedelta(minutes=10)
    assert rider.get(f"/api/bikes/{bike.id}").json()["status"] == "reserved"


def test_reserved_bike_refused_to_others_for_reserve_and_rent(clock, rider, client_for, bike, tariff):
    assert _reserve(rider, bike).status_code == 201
    other = client_for()
    _problem(_reserve(other, bike), 409, "bike-unavailable")
    _problem(other.post("/api/rentals", {"bike_id": str(bike.id)}, format="json"), 409, "bike-unavailable")
    _problem(_reserve(rider, bike), 409, "conflict")


def test_second_bike_for_same_rider_is_409(clock, rider, make_bike):
    assert _reserve(rider, make_bike()).status_code == 201
    _problem(_reserve(rider, make_bike()), 409, "conflict")


def test_refusals(clock, rider, rider_id, client_for, make_bike, tariff):
    _problem(_reserve(rider, make_bike(status="maintenance")), 409, "bike-unavailable")
    _problem(rider.post(_url(uuid.uuid4())), 404, "not-found")
    _problem(rider.post("/api/bikes/not-a-uuid/reservation"), 404, "not-found")
    _problem(rider.get(_url(make_bike().id)), 405, "method-not-allowed")
    renter_id = uuid.uuid4()
    renter = client_for(renter_id)
    assert renter.post("/api/rentals", {"bike_id": str(make_bike().id)}, format="json").status_code == 201
    _problem(_reserve(renter, make_bike()), 409, "active-rental-exists")
    assert not Reservation.objects.exists()


def test_rider_in_debt_is_402(clock, rider, rider_id, bike):
    Wallet.objects.create(user_id=rider_id, balance=-1, currency="EUR")
    _problem(_reserve(rider, bike), 402, "payment-required")
    assert Bike.objects.get(id=bike.id).status == BikeStatus.AVAILABLE


def test_deactivated_rider_is_403(clock, rider, rider_id, bike):
    rider_set_deactivated(user_id=rider_id, deactivated=True, changed_at=T0)
    _problem(_reserve(rider, bike), 403, "account-disabled")
    _problem(rider.get("/api/reservations/active"), 403, "account-disabled")


def test_anonymous_is_401(clock, client, bike):
    response = client.post(_url(bike.id))
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


def test_release_by_holder_204_stranger_404(clock, rider, client_for, bike):
    assert _reserve(rider, bike).status_code == 201
    _problem(client_for().delete(_url(bike.id)), 404, "not-found")
    assert Bike.objects.get(id=bike.id).status == BikeStatus.RESERVED
    response = rider.delete(_url(bike.id))
    assert response.status_code == 204
    assert Bike.objects.get(id=bike.id).status == BikeStatus.AVAILABLE
    _problem(rider.delete(_url(bike.id)), 404, "not-found")
    _problem(rider.delete(_url(uuid.uuid4())), 404, "not-found")
    assert [e["data"]["reason"] for e in events("reservation.released")] == ["cancelled"]


def test_active_reservation_until_expiry(clock, rider, client_for, bike):
    _problem(rider.get("/api/reservations/active"), 404, "not-found")
    created = _reserve(rider, bike).json()
    assert rider.get("/api/reservations/active").json() == created
    _problem(client_for().get("/api/reservations/active"), 404, "not-found")
    clock.set(_parse(created["expires_at"]) - US)
    assert rider.get("/api/reservations/active").status_code == 200
    clock.set(_parse(created["expires_at"]))
    _problem(rider.get("/api/reservations/active"), 404, "not-found")


def test_expired_unswept_reservation_never_shows(clock, rider, client_for, bike, station):
    created = _reserve(rider, bike).json()
    ids = [b["id"] for b in rider.get("/api/bikes").json()["results"]]
    assert str(bike.id) not in ids
    assert rider.get(f"/api/stations/{station.id}").json()["available_bikes"] == 0
    clock.set(_parse(created["expires_at"]))
    # No sweep has run: the reads themselves settle it.
    assert Reservation.objects.get(id=created["id"]).status == ReservationStatus.OPEN
    ids = [b["id"] for b in client_for().get("/api/bikes").json()["results"]]
    assert str(bike.id) in ids
    assert rider.get(f"/api/bikes/{bike.id}").json()["status"] == "available"
    assert rider.get(f"/api/stations/{station.id}").json()["available_bikes"] == 1
    assert [e["data"]["reservation_id"] for e in events("reservation.expired")] == [created["id"]]


def test_reservation_made_by_another_process_expires_on_read_exactly(
    clock, rider, client_for, bike, settings
):
    # Another web process made it: this process's expiry gate never heard of it.
    settings.RESERVATION_MINUTES = 10
    assert str(bike.id) in [b["id"] for b in rider.get("/api/bikes").json()["results"]]  # checks at T0
    made_at = T0 + dt.timedelta(minutes=1)
    reservation = Reservation.objects.create(
        user_id=uuid.uuid4(),
        bike=bike,
        status=ReservationStatus.OPEN,
        created_at=made_at,
        expires_at=made_at + dt.timedelta(minutes=10),
    )
    Bike.objects.filter(id=bike.id).update(status=BikeStatus.RESERVED)
    clock.set(made_at + dt.timedelta(minutes=3))
    assert rider.get(f"/api/bikes/{bike.id}").json()["status"] == "reserved"  # no check before T0 + 5 min
    clock.set(reservation.expires_at - US)
    assert rider.get(f"/api/bikes/{bike.id}").json()["status"] == "reserved"
    clock.set(reservation.expires_at)
    assert rider.get(f"/api/bikes/{bike.id}").json()["status"] == "available"
    assert [e["data"]["reservation_id"] for e in events("reservation.expired")] == [str(reservation.id)]


def test_reads_skip_the_expiry_check_while_nothing_can_fall_due(clock, rider, bike):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    rider.get("/api/bikes")
    with CaptureQueriesContext(connection) as queries:
        assert rider.get("/api/bikes").status_code == 200
    assert not [q for q in queries.captured_queries if "reservations_reservation" in q["sql"]]


def test_holder_rents_and_consumes(clock, rider, bike, tariff):
    created = _reserve(rider, bike).json()
    response = rider.post("/api/rentals", {"bike_id": str(bike.id)}, format="json")
    assert response.status_code == 201, response.content
    reservation = Reservation.objects.get(id=created["id"])
    assert reservation.status == ReservationStatus.CONSUMED
    assert str(reservation.rental_id) == response.json()["id"]
    _problem(rider.get("/api/reservations/active"), 404, "not-found")
    assert [e["data"]["reason"] for e in events("reservation.released")] == ["rented"]


def test_idempotency_key_replays_and_rejects_other_request(clock, rider, make_bike):
    bike, other_bike = make_bike(), make_bike()
    first = _reserve(rider, bike, HTTP_IDEMPOTENCY_KEY="k-1")
    again = _reserve(rider, bike, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Reservation.objects.count() == 1
    _problem(_reserve(rider, other_bike, HTTP_IDEMPOTENCY_KEY="k-1"), 422, "idempotency-key-reused")


def test_openapi_documents_reservations(client):
    schema = client.get("/api/schema").json()
    post = schema["paths"]["/api/bikes/{bike_id}/reservation"]["post"]["responses"]
    for code in ("201", "402", "404", "409", "422"):
        assert code in post, code
    assert "204" in schema["paths"]["/api/bikes/{bike_id}/reservation"]["delete"]["responses"]
    assert "200" in schema["paths"]["/api/reservations/active"]["get"]["responses"]
