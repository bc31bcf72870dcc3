import datetime as dt
import uuid

import pytest
from problems.models import ProblemReport
from rentals.models import Rental

from stats.models import SettledHour
from stats.selectors import stats_today
from stats.services import settled_hours_store

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 4, 15, 20, tzinfo=dt.UTC)


@pytest.fixture
def ride(make_bike, tariff):
    def _ride(*, started_at, minutes=None, cost=None, billed_after=None, currency="EUR"):
        bike = make_bike()
        rental = Rental(
            user_id=uuid.uuid4(),
            user_email="ada@example.com",
            user_name="Ada",
            bike=bike,
            bike_number=bike.number,
            started_at=started_at,
            tariff=tariff,
            tariff_snapshot=tariff.snapshot(),
        )
        if minutes is not None:
            rental.status = "finished"
            rental.ended_at = started_at + dt.timedelta(minutes=minutes)
            rental.duration_seconds = minutes * 60
        if cost is not None:
            rental.cost_amount, rental.cost_currency = cost, currency
            rental.invoice_id = uuid.uuid4()
            rental.billed_at = rental.ended_at + billed_after
        rental.save()
        return rental

    return _ride


def test_hours_totals_and_billing(ride, bike):
    ten = NOW.replace(hour=10, minute=0)
    seconds = dt.timedelta(seconds=1)
    ride(started_at=ten + dt.timedelta(minutes=5), minutes=10, cost=350, billed_after=2 * seconds)
    ride(started_at=ten + dt.timedelta(minutes=50), minutes=20, cost=600, billed_after=4 * seconds)
    ride(started_at=NOW - dt.timedelta(minutes=15), minutes=5)  # finished, not billed yet
    ride(started_at=NOW - dt.timedelta(minutes=3))  # still riding
    ride(started_at=NOW - dt.timedelta(days=1), minutes=30, cost=800, billed_after=dt.timedelta(seconds=1))
    ProblemReport.objects.create(bike=bike, user_id=uuid.uuid4(), category="tyre")

    stats, _ = stats_today(now=NOW)

    assert stats["date"] == NOW.date()
    assert [h["hour"].hour for h in stats["hours"]] == list(range(16))
    by_hour = {h["hour"].hour: h for h in stats["hours"]}
    assert (by_hour[10]["rides_started"], by_hour[10]["rides_finished"]) == (2, 1)
    assert by_hour[10]["revenue"] == [{"amount": 350, "currency": "EUR"}]
    assert (by_hour[11]["rides_started"], by_hour[11]["rides_finished"]) == (0, 1)
    assert by_hour[11]["revenue"] == [{"amount": 600, "currency": "EUR"}]
    assert (by_hour[15]["rides_started"], by_hour[15]["rides_finished"]) == (2, 1)
    assert by_hour[15]["revenue"] == []
    assert stats["totals"] == {
        "rides_started": 4,
        "rides_finished": 3,
        "revenue": [{"amount": 950, "currency": "EUR"}],
        "average_duration_seconds": round((10 + 20 + 5) * 60 / 3),
    }
    assert stats["active_rentals"] == 1
    assert stats["billing"] == {"pending": 1, "oldest_pending_seconds": 600, "average_lag_seconds": 3.0}
    assert stats["open_problem_reports"] == 1


def test_quiet_day_has_zero_hours_and_no_averages(ride):
    ride(started_at=NOW - dt.timedelta(days=2), minutes=10, cost=350, billed_after=dt.timedelta(seconds=1))

    stats, _ = stats_today(now=NOW.replace(hour=0, minute=5))

    assert stats["hours"] == [
        {"hour": NOW.replace(hour=0, minute=0), "rides_started": 0, "rides_finished": 0, "revenue": []}
    ]
    assert stats["totals"]["average_duration_seconds"] is None
    assert stats["billing"] == {"pending": 0, "oldest_pending_seconds": None, "average_lag_seconds": None}


def test_revenue_is_kept_per_currency(ride):
    ten = NOW.replace(hour=10, minute=0)
    ride(started_at=ten, minutes=10, cost=300, billed_after=dt.timedelta(seconds=1), currency="EUR")
    ride(started_at=ten, minutes=10, cost=500, billed_after=dt.timedelta(seconds=1), currency="PLN")

    stats, _ = stats_today(now=NOW)

    assert stats["totals"]["revenue"] == [
        {"amount": 300, "currency": "EUR"},
        {"amount": 500, "currency": "PLN"},
    ]


def _day(ride):
    seconds = dt.timedelta(seconds=1)
    ten = NOW.replace(hour=10, minute=0)
    ride(started_at=ten.replace(hour=2), minutes=30, cost=800, billed_after=3 * seconds)
    ride(started_at=ten + dt.timedelta(minutes=5), minutes=10, cost=350, billed_after=2 * seconds)
    ride(started_at=ten + dt.timedelta(minutes=50), minutes=20, cost=600, billed_after=4 * seconds)
    ride(started_at=NOW - dt.timedelta(minutes=40), minutes=5, cost=300, billed_after=seconds)
    ride(started_at=NOW - dt.timedelta(minutes=3))


def _settle(now):
    return settled_hours_store(figures=stats_today(now=now)[1])


def test_settled_hours_are_stored_once_and_read_back_unchanged(ride):
    _day(ride)
    live, _ = stats_today(now=NOW)

    assert _settle(NOW) == 15  # 00:00 … 14:00; 15:00 is not over
    assert _settle(NOW) == 0
    assert SettledHour.objects.get(hour=NOW.replace(hour=10, minute=0)).rides_started == 2

    assert stats_today(now=NOW)[0] == live


def test_stored_hours_are_what_is_read(ride):
    _day(ride)
    _settle(NOW)
    SettledHour.objects.filter(hour=NOW.replace(hour=2, minute=0)).update(rides_started=7)

    stats, _ = stats_today(now=NOW)

    assert stats["hours"][2]["rides_started"] == 7
    assert stats["totals"]["rides_started"] == 7 + 3 + 1


def test_an_hour_is_not_settled_while_a_ride_that_ended_by_then_waits_for_billing(ride):
    _day(ride)
    ride(started_at=NOW.replace(hour=9, minute=0), minutes=20)  # ended 09:20, not billed

    assert _settle(NOW) == 9  # 00:00 … 08:00
    assert stats_today(now=NOW)[0]["billing"]["pending"] == 1


def test_the_last_hour_settles_only_after_the_grace_time(ride):
    _day(ride)

    assert _settle(NOW.replace(hour=15, minute=5)) == 14  # 14:00 ended only 5 minutes ago
    assert _settle(NOW.replace(hour=15, minute=11)) == 1
