"""The cost rule of docs/ARCHITECTURE.md at its edges."""

from datetime import UTC, datetime

import pytest

from billing.costs import billed_minutes, rental_cost

DAY = 86_400


def cost(seconds: int, *, cap: int | None = None, unlock: int = 100, per_minute: int = 25):
    return rental_cost(
        duration_seconds=seconds, unlock_fee=unlock, price_per_minute=per_minute, daily_cap=cap
    )


@pytest.mark.parametrize(
    ("seconds", "minutes"),
    [(0, 0), (1, 1), (59, 1), (60, 1), (61, 2), (119, 2), (120, 2), (DAY, 1440), (DAY + 1, 1441)],
)
def test_started_minutes_are_paid(seconds, minutes):
    assert billed_minutes(seconds=seconds) == minutes
    assert cost(seconds).minutes == minutes
    assert cost(seconds).total == 100 + minutes * 25


def test_zero_seconds_costs_only_the_unlock_fee():
    assert cost(0).total == 100
    assert cost(0, cap=2000).total == 100
    assert cost(0, cap=2000).windows[0].minutes == 0


def test_59_60_61_seconds():
    assert cost(59).total == 125
    assert cost(60).total == 125
    assert cost(61).total == 150


def test_contract_example_amount():
    # contracts/examples: 1390 s (23 min 10 s) -> 24 started minutes -> 100 + 24 * 25 = 700
    assert cost(1390, cap=2000).total == 700


def test_exactly_one_day_with_cap_is_one_capped_window():
    result = cost(DAY, cap=2000)
    assert len(result.windows) == 1
    assert result.windows[0].uncapped_amount == 1440 * 25
    assert result.windows[0].capped
    assert result.total == 100 + 2000


def test_a_day_and_one_second_opens_a_second_window():
    result = cost(DAY + 1, cap=2000)
    assert [w.seconds for w in result.windows] == [DAY, 1]
    assert [w.minutes for w in result.windows] == [1440, 1]
    assert [w.amount for w in result.windows] == [2000, 25]
    assert result.total == 100 + 2000 + 25


def test_cap_reached_exactly_and_not_exceeded():
    # cap 2000 at 25/min is reached after 80 minutes
    assert cost(80 * 60, cap=2000).total == 100 + 2000
    assert not cost(80 * 60, cap=2000).windows[0].capped
    assert cost(80 * 60 + 1, cap=2000).total == 100 + 2000
    assert cost(80 * 60 + 1, cap=2000).windows[0].capped
    assert cost(79 * 60, cap=2000).total == 100 + 79 * 25


def test_no_cap_charges_every_minute_of_long_rides():
    assert cost(3 * DAY, cap=None).total == 100 + 3 * 1440 * 25
    assert len(cost(3 * DAY, cap=None).windows) == 1


def test_multi_day_with_cap_caps_each_window():
    result = cost(2 * DAY + 30 * 60, cap=2000)
    assert [w.amount for w in result.windows] == [2000, 2000, 750]
    assert result.total == 100 + 4750


def test_zero_cap_makes_riding_free():
    assert cost(3600, cap=0).total == 100


def _seconds_between(start: str, end: str) -> int:
    return int((datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds())


def test_across_midnight_only_duration_counts():
    seconds = _seconds_between("2026-11-23T23:50:00+00:00", "2026-11-24T00:10:00+00:00")
    assert seconds == 1200
    assert cost(seconds, cap=2000).total == cost(1200, cap=2000).total == 100 + 20 * 25


@pytest.mark.parametrize(
    ("start", "end"),
    [
        # Europe's DST change (last Sunday of March / October 2026 at 01:00 UTC): UTC has no gap or overlap.
        ("2026-03-29T00:30:00Z", "2026-03-29T01:30:00Z"),
        ("2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z"),
    ],
)
def test_across_a_dst_change_date_a_utc_hour_is_60_minutes(start, end):
    seconds = int((datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds())
    assert seconds == 3600
    assert datetime.fromisoformat(start).tzinfo == UTC
    assert cost(seconds).total == 100 + 60 * 25


@pytest.mark.parametrize(
    "kwargs",
    [
        {"duration_seconds": -1},
        {"unlock_fee": -1},
        {"price_per_minute": 2.5},
        {"daily_cap": -5},
        {"daily_cap": 1.0},
        {"duration_seconds": True},
    ],
)
def test_rejects_negative_and_non_integer_inputs(kwargs):
    args = {"duration_seconds": 60, "unlock_fee": 100, "price_per_minute": 25, "daily_cap": None} | kwargs
    with pytest.raises(ValueError):
        rental_cost(**args)


def test_waived_unlock_fee_leaves_only_the_minutes():
    cost = rental_cost(
        duration_seconds=125, unlock_fee=100, price_per_minute=25, daily_cap=None, unlock_fee_waived=True
    )
    assert (cost.unlock_fee, cost.unlock_fee_charged, cost.total) == (100, 0, 75)
    assert rental_cost(duration_seconds=125, unlock_fee=100, price_per_minute=25, daily_cap=None).total == 175


def test_waiver_must_be_a_boolean():
    with pytest.raises(ValueError):
        rental_cost(duration_seconds=1, unlock_fee=1, price_per_minute=1, daily_cap=None, unlock_fee_waived=1)
