import datetime as dt
import uuid

import pytest
from core.exceptions import ActiveRentalExists, BikeUnavailable, Conflict, NotFound, PaymentRequired
from fleet.models import Bike, BikeStatus
from fleet.services import bike_retire
from rentals.models import Rental
from rentals.services import rental_finish, rental_start
from wallets.models import Wallet

from reservations.models import Reservation, ReservationStatus
from reservations.services import reservation_cancel, reservation_create, reservations_expire_due
from reservations.tests.conftest import T0, events

pytestmark = pytest.mark.django_db

US = dt.timedelta(microseconds=1)


def _status(bike) -> str:
    return Bike.objects.get(id=bike.id).status


def _rent(user_id, bike):
    return rental_start(user_id=user_id, user_email="r@example.com", user_name="R", bike_id=bike.id)


def test_create_reserves_the_bike_and_emits_created(clock, bike, settings, schema_check):
    settings.RESERVATION_MINUTES = 10
    user_id = uuid.uuid4()
    reservation = reservation_create(user_id=user_id, bike_id=bike.id)
    assert reservation.status == ReservationStatus.OPEN
    assert reservation.created_at == T0
    assert reservation.expires_at == T0 + dt.timedelta(minutes=10)
    assert _status(bike) == BikeStatus.RESERVED
    [event] = events("reservation.created")
    schema_check(event)
    assert event["data"] == {
        "reservation_id": str(reservation.id),
        "user_id": str(user_id),
        "bike_id": str(bike.id),
        "created_at": "2030-05-01T08:00:00Z",
        "expires_at": "2030-05-01T08:10:00Z",
    }


def test_fractional_minutes(clock, bike, settings):
    settings.RESERVATION_MINUTES = 0.05
    reservation = reservation_create(user_id=uuid.uuid4(), bike_id=bike.id)
    assert reservation.expires_at - reservation.created_at == dt.timedelta(seconds=3)


def test_rider_in_debt_is_refused(clock, bike):
    user_id = uuid.uuid4()
    Wallet.objects.create(user_id=user_id, balance=-1, currency="EUR")
    with pytest.raises(PaymentRequired):
        reservation_create(user_id=user_id, bike_id=bike.id)
    assert _status(bike) == BikeStatus.AVAILABLE
    assert not Reservation.objects.exists()


def test_unknown_bike_is_not_found(clock, db):
    with pytest.raises(NotFound):
        reservation_create(user_id=uuid.uuid4(), bike_id=uuid.uuid4())


def test_rider_with_active_rental_is_refused(clock, make_bike, tariff):
    user_id = uuid.uuid4()
    _rent(user_id, make_bike())
    with pytest.raises(ActiveRentalExists):
        reservation_create(user_id=user_id, bike_id=make_bike().id)


@pytest.mark.parametrize("status", ["rented", "maintenance", "retired"])
def test_unavailable_bike_is_refused(clock, make_bike, status):
    with pytest.raises(BikeUnavailable):
        reservation_create(user_id=uuid.uuid4(), bike_id=make_bike(status=status).id)


def test_second_reservation_of_a_rider_is_refused(clock, make_bike):
    user_id = uuid.uuid4()
    first = make_bike()
    reservation_create(user_id=user_id, bike_id=first.id)
    second = make_bike()
    with pytest.raises(Conflict) as excinfo:
        reservation_create(user_id=user_id, bike_id=second.id)
    assert not isinstance(excinfo.value, BikeUnavailable)
    assert _status(second) == BikeStatus.AVAILABLE
    with pytest.raises(Conflict):
        reservation_create(user_id=user_id, bike_id=first.id)


def test_reserved_bike_is_refused_to_another_rider_until_exactly_expires_at(clock, bike):
    holder = reservation_create(user_id=uuid.uuid4(), bike_id=bike.id)
    clock.set(holder.expires_at - US)
    with pytest.raises(BikeUnavailable):
        reservation_create(user_id=uuid.uuid4(), bike_id=bike.id)
    clock.set(holder.expires_at)
    other = uuid.uuid4()
    taken_over = reservation_create(user_id=other, bike_id=bike.id)
    assert taken_over.user_id == other
    holder.refresh_from_db()
    assert holder.status == ReservationStatus.EXPIRED
    assert holder.ended_at == holder.expires_at
    assert [e["data"]["reservation_id"] for e in events("reservation.expired")] == [str(holder.id)]


def test_own_overdue_reservation_does_not_block_a_new_one(clock, make_bike):
    user_id = uuid.uuid4()
    first_bike, second_bike = make_bike(), make_bike()
    first = reservation_create(user_id=user_id, bike_id=first_bike.id)
    clock.set(first.expires_at)
    second = reservation_create(user_id=user_id, bike_id=second_bike.id)
    first.refresh_from_db()
    assert first.status == ReservationStatus.EXPIRED
    assert _status(first_bike) == BikeStatus.AVAILABLE
    assert second.status == ReservationStatus.OPEN
    assert _status(second_bike) == BikeStatus.RESERVED


def test_cancel_by_holder_releases(clock, bike, schema_check):
    user_id = uuid.uuid4()
    reservation = reservation_create(user_id=user_id, bike_id=bike.id)
    clock.set(T0 + dt.timedelta(minutes=2))
    released = reservation_cancel(user_id=user_id, bike_id=bike.id)
    assert released.id == reservation.id
    assert released.status == ReservationStatus.CANCELLED
    assert _status(bike) == BikeStatus.AVAILABLE
    [event] = events("reservation.released")
    schema_check(event)
    assert event["data"]["reason"] == "cancelled"
    assert event["data"]["released_at"] == "2030-05-01T08:02:00Z"
    assert reservation_cancel(user_id=user_id, bike_id=bike.id) is None


def test_cancel_by_stranger_changes_nothing(clock, bike):
    reservation = reservation_create(user_id=uuid.uuid4(), bike_id=bike.id)
    assert reservation_cancel(user_id=uuid.uuid4(), bike_id=bike.id) is None
    assert reservation_cancel(user_id=uuid.uuid4(), bike_id=uuid.uuid4()) is None
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.OPEN
    assert _status(bike) == BikeStatus.RESERVED
    assert not events("reservation.released")


def test_cancel_after_expiry_expires_instead(clock, bike):
    user_id = uuid.uuid4()
    reservation = reservation_create(user_id=user_id, bike_id=bike.id)
    clock.set(reservation.expires_at)
    assert reservation_cancel(user_id=user_id, bike_id=bike.id) is None
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.EXPIRED
    assert _status(bike) == BikeStatus.AVAILABLE
    assert len(events("reservation.expired")) == 1
    assert not events("reservation.released")


def test_rent_by_stranger_is_refused_while_live(clock, bike, tariff):
    reservation = reservation_create(user_id=uuid.uuid4(), bike_id=bike.id)
    clock.set(reservation.expires_at - US)
    with pytest.raises(BikeUnavailable):
        _rent(uuid.uuid4(), bike)
    assert _status(bike) == BikeStatus.RESERVED
    assert not Rental.objects.exists()


def test_rent_by_stranger_at_expires_at_succeeds(clock, bike, tariff):
    reservation = reservation_create(user_id=uuid.uuid4(), bike_id=bike.id)
    clock.set(reservation.expires_at)
    rental = _rent(uuid.uuid4(), bike)
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.EXPIRED
    assert _status(bike) == BikeStatus.RENTED
    assert rental.bike_id == bike.id
    assert len(events("reservation.expired")) == 1


def test_rent_by_holder_consumes_the_reservation(clock, bike, tariff, schema_check):
    user_id = uuid.uuid4()
    reservation = reservation_create(user_id=user_id, bike_id=bike.id)
    clock.set(reservation.expires_at - US)
    rental = _rent(user_id, bike)
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.CONSUMED
    assert reservation.rental_id == rental.id
    assert reservation.ended_at == rental.started_at
    assert _status(bike) == BikeStatus.RENTED
    [event] = events("reservation.released")
    schema_check(event)
    assert event["data"]["reason"] == "rented"
    assert event["data"]["reservation_id"] == str(reservation.id)
    # After the trip the bike is free for anyone, and the holder may reserve again.
    rental_finish(user_id=user_id, rental_id=rental.id)
    assert reservation_create(user_id=user_id, bike_id=bike.id).status == ReservationStatus.OPEN


def test_failed_rent_keeps_the_reservation(clock, bike):
    user_id = uuid.uuid4()
    reservation = reservation_create(user_id=user_id, bike_id=bike.id)
    with pytest.raises(Conflict):  # no tariff in force
        _rent(user_id, bike)
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.OPEN
    assert _status(bike) == BikeStatus.RESERVED


def test_sweep_expires_due_ones_once(clock, make_bike, schema_check):
    due_bike, live_bike = make_bike(), make_bike()
    due = reservation_create(user_id=uuid.uuid4(), bike_id=due_bike.id)
    clock.set(T0 + dt.timedelta(minutes=1))
    live = reservation_create(user_id=uuid.uuid4(), bike_id=live_bike.id)
    clock.set(due.expires_at)
    assert reservations_expire_due() == 1
    assert reservations_expire_due() == 0
    [event] = events("reservation.expired")
    schema_check(event)
    assert event["data"] == {
        "reservation_id": str(due.id),
        "user_id": str(due.user_id),
        "bike_id": str(due_bike.id),
        "expires_at": "2030-05-01T08:10:00Z",
    }
    assert _status(due_bike) == BikeStatus.AVAILABLE
    assert _status(live_bike) == BikeStatus.RESERVED
    live.refresh_from_db()
    assert live.status == ReservationStatus.OPEN


def test_sweep_in_batches(clock, make_bike):
    for _ in range(5):
        reservation_create(user_id=uuid.uuid4(), bike_id=make_bike().id)
    clock.set(T0 + dt.timedelta(hours=1))
    assert reservations_expire_due(limit=2) == 2
    assert reservations_expire_due(limit=10) == 3
    assert Bike.objects.filter(status=BikeStatus.RESERVED).count() == 0


def test_admin_can_retire_a_bike_whose_reservation_is_overdue(clock, bike):
    reservation = reservation_create(user_id=uuid.uuid4(), bike_id=bike.id)
    clock.set(reservation.expires_at - US)
    with pytest.raises(Conflict):
        bike_retire(bike_id=bike.id)
    clock.set(reservation.expires_at)
    assert bike_retire(bike_id=bike.id).status == BikeStatus.RETIRED
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.EXPIRED
