import datetime as dt
import uuid

import pytest
from fleet.models import Bike, BikeStatus
from outbox.models import OutboxEvent
from wallets.models import Wallet

from rentals.models import Rental
from rentals.services import rental_apply_invoice

pytestmark = pytest.mark.django_db


def _problem(response, status, slug):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == f"https://velo.example/problems/{slug}"


def _rent(client, bike, **extra):
    return client.post("/api/rentals", {"bike_id": str(bike.id)}, format="json", **extra)


def test_rent_captures_tariff_and_emits_event(rider, rider_id, bike, tariff, station):
    response = _rent(rider, bike)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "active"
    assert body["bike_id"] == str(bike.id)
    assert body["tariff"] == {
        "id": str(tariff.id),
        "name": "Standard",
        "unlock_fee": 100,
        "price_per_minute": 25,
        "daily_cap": 2000,
        "currency": "EUR",
    }
    assert body["started_at"].endswith("Z")
    assert body["start_station_id"] == str(station.id)
    bike.refresh_from_db()
    assert bike.status == BikeStatus.RENTED and bike.station_id is None
    event = OutboxEvent.objects.get(event_type="rental.started")
    assert event.payload["data"]["rental_id"] == body["id"]
    assert event.payload["data"]["user_id"] == str(rider_id)


def test_tariff_edit_after_start_does_not_change_rental(rider, bike, tariff):
    rental_id = _rent(rider, bike).json()["id"]
    tariff.price_per_minute = 999
    tariff.save()
    assert rider.get(f"/api/rentals/{rental_id}").json()["tariff"]["price_per_minute"] == 25


def test_second_active_rental_is_409(rider, make_bike, tariff):
    assert _rent(rider, make_bike()).status_code == 201
    _problem(_rent(rider, make_bike()), 409, "active-rental-exists")


@pytest.mark.parametrize("status", ["rented", "maintenance", "retired", "reserved"])
def test_unavailable_bike_is_409(rider, make_bike, tariff, status):
    _problem(_rent(rider, make_bike(status=status)), 409, "bike-unavailable")


def test_bike_rented_by_someone_else_is_409(rider, client_for, bike, tariff):
    assert _rent(client_for(uuid.uuid4()), bike).status_code == 201
    _problem(_rent(rider, bike), 409, "bike-unavailable")


def test_wallet_in_debt_is_402(rider, rider_id, bike, tariff):
    Wallet.objects.create(user_id=rider_id, balance=-1, currency="EUR")
    _problem(_rent(rider, bike), 402, "payment-required")
    assert not Rental.objects.exists()


def test_unknown_bike_is_404(rider, tariff):
    _problem(rider.post("/api/rentals", {"bike_id": str(uuid.uuid4())}, format="json"), 404, "not-found")


def test_missing_bike_id_is_400(rider, tariff):
    _problem(rider.post("/api/rentals", {}, format="json"), 400, "validation-error")


def test_unknown_fields_are_400_and_start_nothing(rider, bike, tariff):
    payload = {"bike_id": str(bike.id), "user_id": str(uuid.uuid4()), "status": "finished"}
    response = rider.post("/api/rentals", payload, format="json")
    _problem(response, 400, "validation-error")
    assert set(response.json()["errors"]) == {"user_id", "status"}
    assert not Rental.objects.exists()


def test_no_tariff_in_force_is_409(rider, bike):
    _problem(_rent(rider, bike), 409, "conflict")


def test_finish_at_station_then_twice_is_same(rider, bike, tariff, other_station):
    rental_id = _rent(rider, bike).json()["id"]
    response = rider.post(
        f"/api/rentals/{rental_id}/finish", {"station_id": str(other_station.id)}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "finished"
    assert body["cost"] is None and body["billing_status"] == "pending"
    assert body["duration_seconds"] >= 0 and body["ended_at"]
    bike.refresh_from_db()
    assert bike.status == BikeStatus.AVAILABLE and bike.station_id == other_station.id
    assert (bike.lat, bike.lon) == (other_station.lat, other_station.lon)
    again = rider.post(f"/api/rentals/{rental_id}/finish", {}, format="json")
    assert again.status_code == 200
    assert again.json() == body
    assert OutboxEvent.objects.filter(event_type="rental.finished").count() == 1


def test_finish_without_body(rider, bike, tariff):
    rental_id = _rent(rider, bike).json()["id"]
    response = rider.post(f"/api/rentals/{rental_id}/finish")
    assert response.status_code == 200
    assert Bike.objects.get(id=bike.id).station_id is None


def test_finish_at_unknown_station_is_400(rider, bike, tariff):
    rental_id = _rent(rider, bike).json()["id"]
    response = rider.post(
        f"/api/rentals/{rental_id}/finish", {"station_id": str(uuid.uuid4())}, format="json"
    )
    _problem(response, 400, "validation-error")
    assert Rental.objects.get(id=rental_id).status == "active"


def test_finishing_another_riders_rental_is_404(rider, client_for, bike, tariff):
    rental_id = _rent(rider, bike).json()["id"]
    other = client_for(uuid.uuid4())
    _problem(other.post(f"/api/rentals/{rental_id}/finish", {}, format="json"), 404, "not-found")
    _problem(other.get(f"/api/rentals/{rental_id}"), 404, "not-found")
    assert Rental.objects.get(id=rental_id).status == "active"


def test_active_rental(rider, bike, tariff):
    _problem(rider.get("/api/rentals/active"), 404, "not-found")
    rental_id = _rent(rider, bike).json()["id"]
    assert rider.get("/api/rentals/active").json()["id"] == rental_id
    rider.post(f"/api/rentals/{rental_id}/finish", {}, format="json")
    _problem(rider.get("/api/rentals/active"), 404, "not-found")


def test_history_newest_first_paginated_and_private(rider, client_for, make_bike, tariff):
    ids = []
    for _ in range(3):
        rental_id = _rent(rider, make_bike()).json()["id"]
        rider.post(f"/api/rentals/{rental_id}/finish", {}, format="json")
        ids.append(rental_id)
    _rent(client_for(uuid.uuid4()), make_bike())
    page = rider.get("/api/rentals", {"page_size": 2}).json()
    assert [r["id"] for r in page["results"]] == ids[::-1][:2]
    rest = rider.get(page["next"]).json()
    assert [r["id"] for r in rest["results"]] == [ids[0]]
    assert rest["next"] is None


def test_billed_rental_shows_cost_and_invoice(rider, rider_id, bike, tariff):
    rental_id = _rent(rider, bike).json()["id"]
    rider.post(f"/api/rentals/{rental_id}/finish", {}, format="json")
    _problem(rider.get(f"/api/rentals/{rental_id}/invoice"), 404, "not-found")
    invoice_id = uuid.uuid4()
    key = f"invoices/{dt.date.today():%Y/%m}/{rental_id}.json"
    # A 1390 s ride costs 700 with the conftest tariff (the amount is checked against the rental's own).
    Rental.objects.filter(id=rental_id).update(duration_seconds=1390)
    rental_apply_invoice(
        rental_id=uuid.UUID(rental_id),
        user_id=rider_id,
        invoice_id=invoice_id,
        amount=700,
        currency="EUR",
        s3_key=key,
    )
    body = rider.get(f"/api/rentals/{rental_id}").json()
    assert body["cost"] == {"amount": 700, "currency": "EUR"}
    assert body["billing_status"] == "billed"
    assert body["invoice_id"] == str(invoice_id)
    response = rider.get(f"/api/rentals/{rental_id}/invoice")
    assert response.status_code == 302
    assert key in response["Location"] and "X-Amz-Signature=" in response["Location"]


def test_rent_idempotency_key_replays_first_response(rider, make_bike, tariff):
    bike = make_bike()
    first = _rent(rider, bike, HTTP_IDEMPOTENCY_KEY="rent-1")
    again = _rent(rider, bike, HTTP_IDEMPOTENCY_KEY="rent-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert Rental.objects.count() == 1
    _problem(_rent(rider, make_bike(), HTTP_IDEMPOTENCY_KEY="rent-1"), 422, "idempotency-key-reused")


def test_failed_request_is_not_cached_under_its_key(rider, rider_id, bike, tariff):
    Wallet.objects.create(user_id=rider_id, balance=-5, currency="EUR")
    _problem(_rent(rider, bike, HTTP_IDEMPOTENCY_KEY="k"), 402, "payment-required")
    Wallet.objects.filter(user_id=rider_id).update(balance=0)
    assert _rent(rider, bike, HTTP_IDEMPOTENCY_KEY="k").status_code == 201


def test_rent_without_email_claim_is_400(client_for, bike, tariff):
    client = client_for(uuid.uuid4(), email="")
    assert _rent(client, bike).status_code == 400
