"""The rent and finish write path: what it answers, how many statements it costs, which tariff it picks."""

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from fleet.models import Bike, Tariff
from fleet.selectors import tariff_in_force

from rentals.apis import RentalOutputSerializer, rental_output
from rentals.models import Rental
from rentals.services import rental_apply_invoice

pytestmark = pytest.mark.django_db

TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "BEGIN", "COMMIT")


def _statements(captured) -> list[str]:
    return [q["sql"].strip() for q in captured if not q["sql"].strip().startswith(TRANSACTION_CONTROL)]


def test_rent_and_finish_each_cost_six_statements(rider, bike, tariff, other_station):
    """The rider check, one locked check (or lock) query, two row writes, the vehicle event (the MDS log,
    issue 25) and the outbox row. A change that adds a statement here adds it to every rent or finish in
    production."""
    with CaptureQueriesContext(connection) as rent:
        response = rider.post("/api/rentals", {"bike_id": str(bike.id)}, format="json")
    assert response.status_code == 201, response.content
    rent_sql = _statements(rent.captured_queries)
    assert len(rent_sql) == 6, rent_sql
    assert any("vehicle_events_vehicleevent" in sql for sql in rent_sql)
    assert "FOR UPDATE" in rent_sql[1]

    rental_id = response.json()["id"]
    with CaptureQueriesContext(connection) as finish:
        response = rider.post(
            f"/api/rentals/{rental_id}/finish", {"station_id": str(other_station.id)}, format="json"
        )
    assert response.status_code == 200, response.content
    finish_sql = _statements(finish.captured_queries)
    assert len(finish_sql) == 6, finish_sql
    assert any("vehicle_events_vehicleevent" in sql for sql in finish_sql)
    assert "FOR UPDATE" in finish_sql[1]


def _serialized(rental_id) -> dict:
    return dict(RentalOutputSerializer(Rental.objects.get(id=rental_id)).data)


def test_answers_equal_the_output_serializer_in_every_state(rider, rider_id, make_bike, other_station):
    Tariff.objects.create(
        name="No cap", unlock_fee=0, price_per_minute=10, daily_cap=None, currency="EUR",
        valid_from=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
    )  # fmt: skip
    rented = rider.post("/api/rentals", {"bike_id": str(make_bike().id)}, format="json").json()
    assert rented["tariff"]["daily_cap"] is None
    assert rented == _serialized(rented["id"])
    finished = rider.post(
        f"/api/rentals/{rented['id']}/finish", {"station_id": str(other_station.id)}, format="json"
    ).json()
    assert finished["end_station_id"] == str(other_station.id)
    assert finished == _serialized(rented["id"])
    # Finishing again answers the stored rental unchanged.
    assert rider.post(f"/api/rentals/{rented['id']}/finish", {}, format="json").json() == finished

    # Returned nowhere (no station): no end station, the bike keeps its last position.
    loose = make_bike(at=None)
    Bike.objects.filter(id=loose.id).update(lat=52.1, lon=13.1)
    other = rider.post("/api/rentals", {"bike_id": str(loose.id)}, format="json").json()
    assert other["start_station_id"] is None
    done = rider.post(f"/api/rentals/{other['id']}/finish", {}, format="json").json()
    assert done["end_station_id"] is None
    assert done == _serialized(other["id"])
    loose.refresh_from_db()
    assert (loose.status, loose.station_id, loose.lat, loose.lon) == ("available", None, 52.1, 13.1)
    assert loose.last_rental_id == uuid.UUID(other["id"])

    # Billed (this also puts the rider's wallet in debt, so it comes last). The amount must be what the
    # rental's own tariff snapshot and duration cost.
    Rental.objects.filter(id=rented["id"]).update(duration_seconds=120)
    rental_apply_invoice(
        rental_id=uuid.UUID(rented["id"]),
        user_id=rider_id,
        invoice_id=uuid.uuid4(),
        amount=20,  # 2 minutes at 10, no unlock fee ("No cap")
        currency="EUR",
        s3_key="invoices/x.json",
    )
    billed = Rental.objects.get(id=rented["id"])
    assert rental_output(billed) == _serialized(billed.id)
    assert rental_output(billed)["cost"] == {"amount": 20, "currency": "EUR"}


def test_rent_takes_the_tariff_fleet_says_is_in_force(rider, bike):
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)

    def tariff(name, *, valid_from, is_active=True):
        return Tariff.objects.create(
            name=name, unlock_fee=1, price_per_minute=1, currency="EUR", valid_from=valid_from,
            is_active=is_active,
        )  # fmt: skip

    tariff("old", valid_from=start)
    tariff("tie, created first", valid_from=start + dt.timedelta(days=1))
    newest_created = tariff("tie, created last", valid_from=start + dt.timedelta(days=1))
    tariff("retired", valid_from=start + dt.timedelta(days=2), is_active=False)
    tariff("future", valid_from=dt.datetime.now(dt.UTC) + dt.timedelta(days=1))

    body = rider.post("/api/rentals", {"bike_id": str(bike.id)}, format="json").json()
    started_at = Rental.objects.get(id=body["id"]).started_at
    assert tariff_in_force(at=started_at) == newest_created
    assert body["tariff"]["id"] == str(newest_created.id)
    assert Rental.objects.get(id=body["id"]).tariff_id == newest_created.id


def test_a_rider_renting_their_own_rented_bike_hears_active_rental(rider, bike, tariff):
    assert rider.post("/api/rentals", {"bike_id": str(bike.id)}, format="json").status_code == 201
    response = rider.post("/api/rentals", {"bike_id": str(bike.id)}, format="json")
    assert response.status_code == 409
    assert response.json()["type"].endswith("/active-rental-exists")
    assert Bike.objects.get(id=bike.id).status == "rented"


def test_reads_answer_what_the_output_serializer_says(rider, make_bike, tariff, other_station):
    first = rider.post("/api/rentals", {"bike_id": str(make_bike().id)}, format="json").json()
    rider.post(f"/api/rentals/{first['id']}/finish", {"station_id": str(other_station.id)}, format="json")
    second = rider.post("/api/rentals", {"bike_id": str(make_bike().id)}, format="json").json()

    assert rider.get("/api/rentals/active").json() == _serialized(second["id"])
    assert rider.get(f"/api/rentals/{first['id']}").json() == _serialized(first["id"])
    page = rider.get("/api/rentals").json()
    assert [row["id"] for row in page["results"]] == [second["id"], first["id"]]
    assert page["results"] == [_serialized(second["id"]), _serialized(first["id"])]
