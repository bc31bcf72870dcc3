import datetime as dt
import uuid

import pytest

from riders.selectors import rider_is_deactivated
from riders.services import rider_set_deactivated

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC)


def test_deactivate_and_reactivate():
    user_id = uuid.uuid4()
    assert rider_is_deactivated(user_id=user_id) is False
    rider_set_deactivated(user_id=user_id, deactivated=True, changed_at=T0)
    assert rider_is_deactivated(user_id=user_id) is True
    rider_set_deactivated(user_id=user_id, deactivated=False, changed_at=T0 + dt.timedelta(hours=1))
    assert rider_is_deactivated(user_id=user_id) is False


def test_late_older_event_does_not_override_newer_state():
    user_id = uuid.uuid4()
    rider_set_deactivated(user_id=user_id, deactivated=True, changed_at=T0 + dt.timedelta(hours=1))
    rider_set_deactivated(user_id=user_id, deactivated=False, changed_at=T0)
    assert rider_is_deactivated(user_id=user_id) is True
