"""/mds/reports/YYYY-MM.csv: a finished month's counts, small counts redacted to -1."""

import csv
import datetime as dt
import io
import uuid

import pytest
from django.conf import settings
from fleet.services import bike_create
from rentals.services import rental_finish, rental_start
from rest_framework.test import APIClient

from mds import clock
from mds.tests.provider_spec import assert_valid

pytestmark = pytest.mark.django_db


@pytest.fixture
def agency(make_token) -> APIClient:
    client = APIClient()
    token = make_token(roles=("agency",), extra={"provider_id": str(settings.MDS_PROVIDER_ID)})
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def _trips(count: int, *, riders: int, station, other_station) -> None:
    bike = bike_create(number=f"R-{uuid.uuid4().hex[:6]}", model="m", station_id=station.id)
    rider_ids = [uuid.uuid4() for _ in range(riders)]
    for i in range(count):
        rider = rider_ids[i % riders]
        rental = rental_start(user_id=rider, user_email="r@example.com", user_name="R", bike_id=bike.id)
        rental_finish(user_id=rider, rental_id=rental.id, station_id=other_station.id)


def _report(agency, month: dt.datetime, monkeypatch) -> list[dict]:
    next_month = (month.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    monkeypatch.setattr(clock, "now", lambda: next_month + dt.timedelta(seconds=1))
    response = agency.get(f"/mds/reports/{month:%Y-%m}.csv")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode()
    assert_valid("/reports/{filename}", text, content="text/csv")
    return list(csv.DictReader(io.StringIO(text)))


def test_small_counts_are_redacted(agency, tariff, station, other_station, monkeypatch):
    _trips(3, riders=2, station=station, other_station=other_station)
    month = clock.now()
    (row,) = _report(agency, month, monkeypatch)
    assert row["provider_id"] == settings.MDS_PROVIDER_ID
    assert row["start_date"] == month.strftime("%Y-%m-01")
    assert (row["duration"], row["special_group_type"], row["vehicle_type"]) == (
        "P1M",
        "all_riders",
        "bicycle",
    )
    assert (row["trip_count"], row["rider_count"]) == ("-1", "-1")


def test_counts_of_ten_and_more_are_shown(agency, tariff, station, other_station, monkeypatch):
    _trips(12, riders=10, station=station, other_station=other_station)
    (row,) = _report(agency, clock.now(), monkeypatch)
    assert (row["trip_count"], row["rider_count"]) == ("12", "10")


def test_months_not_over_and_bad_names_are_404(agency, client_for):
    now = clock.now()
    assert agency.get(f"/mds/reports/{now:%Y-%m}.csv").status_code == 404
    assert agency.get(f"/mds/reports/{now.year + 1}-01.csv").status_code == 404
    for name in ("2024-13.csv", "2024-00.csv", "2024-1.csv", "2024-01.json"):
        response = agency.get(f"/mds/reports/{name}")
        assert response.status_code == 404, name
        assert response["Content-Type"] == "application/problem+json"
    rider = client_for(uuid.uuid4())
    assert rider.get("/mds/reports/2024-01.csv").status_code == 403
