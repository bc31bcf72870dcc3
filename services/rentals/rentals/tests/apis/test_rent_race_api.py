"""The same races through HTTP (auth, idempotency wrapper, exception handler) against real PostgreSQL."""

import uuid

import pytest
from core.testing import race

from rentals.models import Rental

pytestmark = pytest.mark.django_db(transaction=True)


def test_many_riders_one_bike_over_http(client_for, bike, tariff):
    clients = [client_for(uuid.uuid4()) for _ in range(10)]
    responses = race(
        [lambda c=c: c.post("/api/rentals", {"bike_id": str(bike.id)}, format="json") for c in clients]
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 9
    assert all(r.json()["type"].endswith("/bike-unavailable") for r in responses if r.status_code == 409)
    assert Rental.objects.count() == 1


def test_one_rider_many_bikes_over_http(client_for, make_bike, tariff):
    user_id = uuid.uuid4()
    bikes = [make_bike() for _ in range(10)]
    pairs = [(client_for(user_id), b) for b in bikes]  # one client per thread, same rider
    responses = race(
        [lambda c=c, b=b: c.post("/api/rentals", {"bike_id": str(b.id)}, format="json") for c, b in pairs]
    )
    assert sorted(r.status_code for r in responses) == [201] + [409] * 9
    assert all(r.json()["type"].endswith("/active-rental-exists") for r in responses if r.status_code == 409)


def test_concurrent_retries_with_one_idempotency_key_rent_once(client_for, bike, tariff):
    user_id = uuid.uuid4()
    clients = [client_for(user_id) for _ in range(6)]
    responses = race(
        [
            lambda c=c: c.post(
                "/api/rentals", {"bike_id": str(bike.id)}, format="json", HTTP_IDEMPOTENCY_KEY="retry-1"
            )
            for c in clients
        ]
    )
    assert [r.status_code for r in responses] == [201] * 6
    assert len({r.json()["id"] for r in responses}) == 1
    assert Rental.objects.count() == 1
