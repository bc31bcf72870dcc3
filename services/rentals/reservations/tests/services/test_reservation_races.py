"""Real concurrency against real PostgreSQL: threads with their own connections, released together."""

import datetime as dt
import uuid

import pytest
from core.exceptions import BikeUnavailable, Conflict
from core.testing import race
from fleet.models import Bike, BikeStatus
from rentals.models import Rental, RentalStatus
from rentals.services import rental_start

from reservations.models import Reservation, ReservationStatus
from reservations.services import reservation_create, reservations_expire_due
from reservations.tests.conftest import T0, events

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 10


def _reserve(user_id, bike_id):
    return lambda: reservation_create(user_id=user_id, bike_id=bike_id)


def _rent(user_id, bike_id):
    return lambda: rental_start(user_id=user_id, user_email="r@example.com", user_name="R", bike_id=bike_id)


def test_many_riders_one_bike_exactly_one_reservation(clock, bike):
    results = race([_reserve(uuid.uuid4(), bike.id) for _ in range(THREADS)])
    winners = [r for r in results if isinstance(r, Reservation)]
    assert len(winners) == 1, results
    assert all(isinstance(r, BikeUnavailable) for r in results if r not in winners), results
    assert Reservation.objects.filter(bike=bike, status=ReservationStatus.OPEN).count() == 1
    assert Bike.objects.get(id=bike.id).status == BikeStatus.RESERVED
    assert len(events("reservation.created")) == 1


def test_one_rider_many_bikes_exactly_one_reservation(clock, make_bike):
    user_id = uuid.uuid4()
    bikes = [make_bike() for _ in range(THREADS)]
    results = race([_reserve(user_id, b.id) for b in bikes])
    winners = [r for r in results if isinstance(r, Reservation)]
    assert len(winners) == 1, results
    assert all(isinstance(r, Conflict) for r in results if r not in winners), results
    assert Reservation.objects.filter(user_id=user_id, status=ReservationStatus.OPEN).count() == 1
    assert Bike.objects.filter(id__in=[b.id for b in bikes], status=BikeStatus.RESERVED).count() == 1


def test_reserve_and_rent_racing_for_one_bike_one_winner(clock, bike, tariff):
    calls = [(_reserve if i % 2 else _rent)(uuid.uuid4(), bike.id) for i in range(THREADS)]
    results = race(calls)
    winners = [r for r in results if isinstance(r, (Reservation, Rental))]
    assert len(winners) == 1, results
    assert all(isinstance(r, BikeUnavailable) for r in results if r not in winners), results
    status = Bike.objects.get(id=bike.id).status
    assert status == (BikeStatus.RESERVED if isinstance(winners[0], Reservation) else BikeStatus.RENTED)


def test_expiry_racing_sweepers_and_renters_emits_once(clock, make_bike, tariff):
    bikes = [make_bike() for _ in range(4)]
    reservations = [reservation_create(user_id=uuid.uuid4(), bike_id=b.id) for b in bikes]
    clock.set(T0 + dt.timedelta(hours=1))
    calls = [lambda: reservations_expire_due() for _ in range(6)]
    calls += [_rent(uuid.uuid4(), bikes[0].id), _rent(uuid.uuid4(), bikes[1].id)]
    results = race(calls)
    assert not [r for r in results if isinstance(r, Exception)], results
    expired = events("reservation.expired")
    assert sorted(e["data"]["reservation_id"] for e in expired) == sorted(str(r.id) for r in reservations)
    assert Reservation.objects.filter(status=ReservationStatus.EXPIRED).count() == 4
    assert Rental.objects.filter(status=RentalStatus.ACTIVE).count() == 2
    assert set(Bike.objects.values_list("status", flat=True)) == {BikeStatus.RENTED, BikeStatus.AVAILABLE}
