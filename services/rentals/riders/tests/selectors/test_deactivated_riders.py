import datetime as dt
import uuid

import pytest

from riders.selectors import DeactivatedRiders
from riders.services import rider_set_deactivated

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC)


def test_known_answers_from_a_fresh_copy_only(django_assert_num_queries):
    deactivated, active = uuid.uuid4(), uuid.uuid4()
    rider_set_deactivated(user_id=deactivated, deactivated=True, changed_at=T0)
    copy = DeactivatedRiders()

    with django_assert_num_queries(0):
        assert copy.known(deactivated, max_age=60) is None  # never loaded: nothing to vouch with
    assert copy.contains(active, max_age=60) is False  # loads the copy
    with django_assert_num_queries(0):
        assert copy.known(deactivated, max_age=60) is True
        assert copy.known(active, max_age=60) is False
        assert copy.known(active, max_age=0) is None  # older than allowed
