import datetime as dt
import math
import random
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fleet.models import Bike, Tariff
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


def _great_circle_m(lat1, lon1, lat2, lon2):
    p1, p2, dp, dl = map(math.radians, (lat1, lat2, lat2 - lat1, lon2 - lon1))
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(a))


def _scattered_bikes(n, *, seed=7):
    rnd = random.Random(seed)
    return [
        Bike.objects.create(
            number=f"S-{i:03d}", model="Test", lat=52.3 + rnd.random() * 0.4, lon=13.0 + rnd.random() * 0.8
        )
        for i in range(n)
    ]


def test_bike_page_nearest_follows_the_great_circle_distance():
    bikes = _scattered_bikes(60)
    here = (52.52, 13.40)
    expected = sorted(bikes, key=lambda b: _great_circle_m(*here, b.lat, b.lon))
    rows = bike_page(near=here, limit=100)
    assert [row["id"] for row in rows] == [str(b.id) for b in expected]
    assert [row["distance"] for row in rows] == sorted(row["distance"] for row in rows)


def _walk(*, near, limit):
    """Every page of the nearest-first list in order, as keyset_paginate asks for them."""
    pages, after = [], None
    while True:
        rows = bike_page(near=near, after=after, limit=limit)
        if not rows:
            return pages
        pages.append(rows)
        after = [rows[-1]["distance"], rows[-1]["id"]]


def test_bike_page_nearest_pages_forward_and_back_with_ties_at_the_page_edges(station, other_station):
    # 80 bikes on two spots (ties far beyond the extra rows read per page) and 20 scattered ones.
    tied = [
        Bike.objects.create(number=f"T-{i:03d}", model="Test", lat=spot.lat, lon=spot.lon)
        for i, spot in enumerate([station] * 50 + [other_station] * 30)
    ]
    bikes = tied + _scattered_bikes(20)
    here = (station.lat, station.lon)
    everything = bike_page(near=here, limit=len(bikes) + 1)
    assert len(everything) == len(bikes)
    assert everything == sorted(everything, key=lambda row: (row["distance"], row["id"]))
    pages = _walk(near=here, limit=7)
    assert [row for page in pages for row in page] == everything
    # Previous pages, from the last row back, give the same rows (nearest first within a page).
    before, back = everything[-1], []
    while True:
        rows = bike_page(near=here, after=[before["distance"], before["id"]], reverse=True, limit=7)
        if not rows:
            break
        back = list(reversed(rows)) + back
        before = rows[-1]
    assert back == everything[:-1]


def test_bike_page_nearest_sees_moved_bikes(make_bike, station, other_station):
    bike = make_bike(at=other_station)
    make_bike(at=station)
    Bike.objects.filter(id=bike.id).update(lat=station.lat, lon=station.lon + 0.0001)
    assert bike_page(near=(station.lat, station.lon + 0.0001), limit=1)[0]["id"] == str(bike.id)
    Bike.objects.filter(id=bike.id).update(lat=None, lon=None)
    assert str(bike.id) not in {row["id"] for row in bike_page(near=(station.lat, station.lon), limit=10)}


def _plan(call, **settings) -> str:
    """EXPLAIN of the one statement `call` runs, with planner settings."""
    with connection.cursor() as cursor:
        for name, value in settings.items():
            cursor.execute(f"SET LOCAL {name} = {value}")
        with CaptureQueriesContext(connection) as queries:
            call()
        [query] = queries.captured_queries
        cursor.execute("EXPLAIN " + query["sql"])
        return "\n".join(row[0] for row in cursor.fetchall())


def test_bike_page_nearest_can_use_the_knn_index(make_bike, station, other_station):
    bike = make_bike(at=station)
    # Bikes elsewhere, with statistics: on a one-row table the planner found the btree on status as cheap
    # as the box (a coin toss that flipped with the table's statistics); a real fleet is spread out.
    for _ in range(30):
        make_bike(at=other_station)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE fleet_bike")
    here = (station.lat, station.lon)
    # A few rows would be sorted in memory; with sorting priced out, only the KNN order is left.
    plan = _plan(lambda: bike_page(near=here, limit=5), enable_sort="off")
    assert "Index Scan using fleet_bike_unit_vector_idx" in plan
    assert "Order By:" in plan and "Sort" not in plan
    # Previous pages (and ties past the rows read) look inside a box around the point.
    plan = _plan(
        lambda: bike_page(near=here, after=[0.001, str(bike.id)], reverse=True, limit=5), enable_seqscan="off"
    )
    box_scan = r"Index Scan using fleet_bike_unit_vector_idx.*\n\s+Index Cond: .*unit_vector <@"
    assert re.search(box_scan, plan), plan


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
        "condition": "ok",
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


def test_the_rent_path_snapshots_the_tariff_in_force_by_the_same_rule():
    """One rule, one snapshot: the SQL the rent path embeds agrees with `tariff_in_force` and `snapshot()`."""
    from fleet.queries import TARIFF_SNAPSHOT_IN_FORCE

    now = timezone.now()
    _tariff("old", valid_from=now - dt.timedelta(days=10))
    current = _tariff("current", valid_from=now - dt.timedelta(days=1))
    _tariff("future", valid_from=now + dt.timedelta(days=1))
    with connection.cursor() as cursor:
        cursor.execute(TARIFF_SNAPSHOT_IN_FORCE, {"now": now})
        (snapshot,) = cursor.fetchone()
    assert tariff_in_force(at=now) == current
    assert snapshot == current.snapshot()
