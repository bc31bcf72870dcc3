"""The bike list through the gateway: pages answered from a web process's memory follow the freshness rule
(rentals README): the rider who made a change sees it at once, everyone else within
BIKE_LIST_MAX_AGE_SECONDS."""

from __future__ import annotations

import time
import uuid

import pytest
from e2e_support import rent


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.text[:300]
    return [bike["id"] for bike in response.json()["results"]]


def _settles(read, expected, *, reads: int = 8, within: float = 3.0) -> None:
    """`reads` answers in a row equal `expected` within `within` seconds. Another web process learns of the
    writer from a database notification (well under a millisecond on one host, but not synchronised with the
    writer's HTTP answer), so a read racing it may still show the page from before; other riders' pages may
    be up to BIKE_LIST_MAX_AGE_SECONDS (0.5 s) old."""
    deadline, streak, last = time.monotonic() + within, 0, None
    while streak < reads:
        last = read()
        streak = streak + 1 if last == expected else 0
        assert time.monotonic() < deadline, f"list still {last}, expected {expected}"


@pytest.mark.admin
def test_a_listed_bike_disappears_from_the_list_once_rented(admin, register_and_confirm):
    admin_api = admin.api()
    station = admin_api.post(
        "/api/stations",
        json={"name": f"E2E list station {uuid.uuid4().hex[:6]}", "lat": 52.5, "lon": 13.4, "capacity": 5},
    )
    assert station.status_code == 201, station.text[:300]
    station_id = station.json()["id"]
    bikes = []
    for n in range(2):
        created = admin_api.post(
            "/api/bikes",
            json={"number": f"E2E-LIST-{uuid.uuid4().hex[:8]}-{n}", "model": "e2e", "station_id": station_id},
        )
        assert created.status_code == 201, created.text[:300]
        bikes.append(created.json()["id"])
    rider_api = register_and_confirm("lister").api()
    path = f"/api/bikes?station_id={station_id}"

    # Read often enough that every web process has the page in memory.
    answers = [rider_api.get(path) for _ in range(8)]
    assert all(sorted(_ids(answer)) == sorted(bikes) for answer in answers)
    assert len({answer.headers["X-Request-ID"] for answer in answers}) == len(answers)

    def listed() -> list[str]:
        return sorted(_ids(rider_api.get(path)))

    rental = rent(rider_api, bikes[0])
    _settles(listed, [bikes[1]])
    finished = rider_api.post(f"/api/rentals/{rental['id']}/finish", json={"station_id": station_id})
    assert finished.status_code == 200, finished.text[:300]
    _settles(listed, sorted(bikes))

    # An operator's change shows too, and a page is still only for a valid token.
    assert admin_api.patch(f"/api/bikes/{bikes[1]}", json={"status": "maintenance"}).status_code == 200
    _settles(listed, [bikes[0]])
    assert rider_api.get(path, token="not-a-token").status_code == 401
