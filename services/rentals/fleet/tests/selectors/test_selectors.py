import datetime as dt

import pytest
from django.utils import timezone

from fleet.models import Tariff
from fleet.selectors import bike_page, tariff_in_force

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


def test_bike_page_nearest_first_by_distance(make_bike, station, other_station):
    near = make_bike(at=station)
    far = make_bike(at=other_station)
    rows = bike_page(near=(station.lat, station.lon), limit=10)
    assert [row["id"] for row in rows] == [str(near.id), str(far.id)]
    assert rows[0]["distance"] == 0.0 < rows[1]["distance"]


def test_bike_page_keyset_after_and_before(make_bike):
    bikes = [make_bike(number=f"K-{i}") for i in range(4)]
    after = bike_page(after=["K-1", str(bikes[1].id)], limit=10)
    assert [row["number"] for row in after] == ["K-2", "K-3"]
    before = bike_page(after=["K-2", str(bikes[2].id)], reverse=True, limit=10)
    assert [row["number"] for row in before] == ["K-1", "K-0"]
    assert bike_page(limit=2)[1] == {
        "id": str(bikes[1].id),
        "number": "K-1",
        "model": bikes[1].model,
        "status": "available",
        "station_id": str(bikes[1].station_id),
        "lat": bikes[1].lat,
        "lon": bikes[1].lon,
    }


def test_bike_page_filters_statuses_and_station(make_bike, station, other_station):
    here = make_bike()
    broken = make_bike(status="maintenance")
    there = make_bike(at=other_station)
    assert {r["id"] for r in bike_page(statuses=["maintenance"], limit=10)} == {str(broken.id)}
    assert [r["id"] for r in bike_page(station_id=other_station.id, limit=10)] == [str(there.id)]
    assert str(here.id) in {r["id"] for r in bike_page(limit=10)}


@pytest.mark.parametrize(
    ("near", "after", "error"),
    [
        (None, [5, "00000000-0000-0000-0000-000000000000"], TypeError),
        (None, ["K-1", "not-a-uuid"], ValueError),
        ((52.5, 13.4), ["far", "00000000-0000-0000-0000-000000000000"], TypeError),
        ((52.5, 13.4), [True, "00000000-0000-0000-0000-000000000000"], TypeError),
    ],
)
def test_bike_page_refuses_forged_keys_before_querying(near, after, error):
    with pytest.raises(error):
        bike_page(near=near, after=after, limit=10)
