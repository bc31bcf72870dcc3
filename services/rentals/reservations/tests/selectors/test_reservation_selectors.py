import datetime as dt
import uuid

import pytest
from core.exceptions import NotFound

from reservations.selectors import reservation_active
from reservations.services import reservation_cancel, reservation_create

pytestmark = pytest.mark.django_db


def test_active_until_exactly_expires_at(clock, bike):
    user_id = uuid.uuid4()
    with pytest.raises(NotFound):
        reservation_active(user_id=user_id)
    reservation = reservation_create(user_id=user_id, bike_id=bike.id)
    clock.set(reservation.expires_at - dt.timedelta(microseconds=1))
    assert reservation_active(user_id=user_id).id == reservation.id
    clock.set(reservation.expires_at)
    with pytest.raises(NotFound):
        reservation_active(user_id=user_id)


def test_active_is_private_and_ends_on_release(clock, bike):
    user_id = uuid.uuid4()
    reservation_create(user_id=user_id, bike_id=bike.id)
    with pytest.raises(NotFound):
        reservation_active(user_id=uuid.uuid4())
    reservation_cancel(user_id=user_id, bike_id=bike.id)
    with pytest.raises(NotFound):
        reservation_active(user_id=user_id)
