"""Real concurrency against real PostgreSQL: threads with their own connections, released together."""

import uuid

import pytest
from core.exceptions import ActiveRentalExists, ApplicationError, BikeUnavailable
from core.testing import race
from fleet.models import Bike, BikeStatus

from rentals.models import Rental, RentalStatus
from rentals.services import rental_finish, rental_start

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 12


def _start(user_id, bike_id):
    return lambda: rental_start(user_id=user_id, user_email="r@example.com", user_name="R", bike_id=bike_id)


def test_many_riders_one_bike_exactly_one_winner(bike, tariff):
    riders = [uuid.uuid4() for _ in range(THREADS)]
    results = race([_start(user_id, bike.id) for user_id in riders])
    winners = [r for r in results if isinstance(r, Rental)]
    losers = [r for r in results if isinstance(r, BikeUnavailable)]
    assert len(winners) == 1, results
    assert len(losers) == THREADS - 1, results
    assert Rental.objects.filter(bike=bike, status=RentalStatus.ACTIVE).count() == 1
    assert Bike.objects.get(id=bike.id).status == BikeStatus.RENTED


def test_one_rider_many_bikes_exactly_one_rental(make_bike, tariff):
    user_id = uuid.uuid4()
    bikes = [make_bike() for _ in range(THREADS)]
    results = race([_start(user_id, b.id) for b in bikes])
    winners = [r for r in results if isinstance(r, Rental)]
    assert len(winners) == 1, results
    assert all(isinstance(r, ActiveRentalExists) for r in results if not isinstance(r, Rental)), results
    assert Rental.objects.filter(user_id=user_id, status=RentalStatus.ACTIVE).count() == 1
    # Only the winner's bike left the pool; the losers' bikes are untouched.
    assert Bike.objects.filter(id__in=[b.id for b in bikes], status=BikeStatus.RENTED).count() == 1


def test_one_rider_racing_themself_for_one_bike_hears_active_rental(bike, tariff):
    """The losers wait for the bike's lock; once they have it they must still answer "active rental"
    first (the order of the checks), not "bike unavailable"."""
    user_id = uuid.uuid4()
    results = race([_start(user_id, bike.id) for _ in range(6)])
    winners = [r for r in results if isinstance(r, Rental)]
    assert len(winners) == 1, results
    assert all(isinstance(r, ActiveRentalExists) for r in results if not isinstance(r, Rental)), results
    assert Rental.objects.filter(user_id=user_id, status=RentalStatus.ACTIVE).count() == 1


def test_concurrent_double_finish_finishes_once(bike, tariff):
    user_id = uuid.uuid4()
    rental = _start(user_id, bike.id)()
    results = race([lambda: rental_finish(user_id=user_id, rental_id=rental.id) for _ in range(6)])
    assert all(isinstance(r, Rental) and r.status == RentalStatus.FINISHED for r in results), results
    assert len({r.ended_at for r in results}) == 1
    from outbox.models import OutboxEvent

    assert OutboxEvent.objects.filter(event_type="rental.finished").count() == 1
    assert Bike.objects.get(id=bike.id).status == BikeStatus.AVAILABLE


def test_retire_racing_rent_never_retires_a_rented_bike(bike, tariff):
    from fleet.services import bike_retire

    results = race([_start(uuid.uuid4(), bike.id), lambda: bike_retire(bike_id=bike.id)])
    bike.refresh_from_db()
    rented = Rental.objects.filter(bike=bike, status=RentalStatus.ACTIVE).exists()
    assert (bike.status == BikeStatus.RENTED) == rented
    assert (bike.status == BikeStatus.RETIRED) == (not rented)
    assert any(isinstance(r, ApplicationError) for r in results)
