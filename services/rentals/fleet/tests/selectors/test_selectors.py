import datetime as dt

import pytest
from django.utils import timezone

from fleet.models import Tariff
from fleet.selectors import bike_list, tariff_in_force

pytestmark = pytest.mark.django_db


def _tariff(name, *, valid_from, is_active=True):
    return Tariff.objects.create(
        name=name,
        unlock_fee=1,
        price_per_minute=1,
        currency="EUR",
        valid_from=valid_from,
        is_active=is_active,
    )


def test_tariff_in_force_is_latest_active_already_valid():
    now = timezone.now()
    _tariff("old", valid_from=now - dt.timedelta(days=10))
    current = _tariff("current", valid_from=now - dt.timedelta(days=1))
    _tariff("future", valid_from=now + dt.timedelta(days=1))
    _tariff("retired", valid_from=now - dt.timedelta(hours=1), is_active=False)
    assert tariff_in_force(at=now) == current


def test_no_tariff_in_force():
    assert tariff_in_force() is None


def test_bike_list_nearest_orders_by_distance(make_bike, station, other_station):
    near = make_bike(at=station)
    far = make_bike(at=other_station)
    queryset, ordering = bike_list(near=(station.lat, station.lon))
    assert list(queryset.order_by(*ordering)) == [near, far]
