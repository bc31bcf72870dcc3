"""The published per-minute segments must price every trip exactly as billing does (docs/ARCHITECTURE.md,
"Cost rule"), and money must be converted from minor units without rounding."""

import math
from decimal import Decimal

import pytest
from fleet.models import Tariff

from gbfs import selectors
from gbfs.money import json_number, minor_to_major

DAY = 24 * 60 * 60


def billing_cost(*, tariff: Tariff, duration_seconds: int) -> int:
    """The billing worker's rule, restated from the architecture document."""
    if tariff.daily_cap is None:
        return tariff.unlock_fee + math.ceil(duration_seconds / 60) * tariff.price_per_minute
    total = tariff.unlock_fee
    start = 0
    while start < duration_seconds:
        window = min(DAY, duration_seconds - start)
        total += min(tariff.daily_cap, math.ceil(window / 60) * tariff.price_per_minute)
        start += DAY
    return total


def gbfs_cost_minor(*, plan: dict, duration_seconds: int, exponent: int = 2) -> int:
    """How a GBFS consumer prices a trip: `price`, plus each segment's `rate` at its start and then every
    `interval` minutes, up to (not including) `end`, for each minute the trip has started."""
    started = math.ceil(duration_seconds / 60)
    total = Decimal(str(plan["price"]))
    for segment in plan.get("per_min_pricing", []):
        stop = min(started, segment.get("end", started))
        if segment["start"] >= stop:
            continue
        charges = (
            1 if segment["interval"] == 0 else math.ceil((stop - segment["start"]) / segment["interval"])
        )
        total += Decimal(str(segment["rate"])) * charges
    scaled = total.scaleb(exponent)
    assert scaled == scaled.to_integral_value()
    return int(scaled)


def _plan(tariff: Tariff, *, cap_days: int = 7) -> dict:
    return {
        "price": json_number(minor_to_major(amount=tariff.unlock_fee, currency=tariff.currency)),
        "per_min_pricing": selectors.per_min_pricing(tariff=tariff, cap_days=cap_days),
    }


DURATIONS = [
    1,
    59,
    60,
    61,
    600,
    4799,
    4800,
    4801,
    4861,
    DAY - 1,
    DAY,
    DAY + 1,
    DAY + 4800,
    2 * DAY + 30,
    6 * DAY + 5000,
]


@pytest.mark.parametrize(
    ("unlock_fee", "price_per_minute", "daily_cap"),
    [
        (100, 25, 2000),  # the demo tariff: the cap is reached after exactly 80 minutes
        (100, 30, 2000),  # 66 full minutes, then a 20-cent minute reaches the cap
        (0, 7, None),
        (150, 25, 10**6),  # a cap that never binds
        (99, 1, 0),  # only the unlock fee
        (250, 0, None),
    ],
)
@pytest.mark.parametrize("duration_seconds", DURATIONS)
def test_segments_price_trips_like_billing(unlock_fee, price_per_minute, daily_cap, duration_seconds):
    tariff = Tariff(
        name="T",
        unlock_fee=unlock_fee,
        price_per_minute=price_per_minute,
        daily_cap=daily_cap,
        currency="EUR",
    )
    assert gbfs_cost_minor(plan=_plan(tariff), duration_seconds=duration_seconds) == billing_cost(
        tariff=tariff, duration_seconds=duration_seconds
    )


def test_capped_segments_cover_the_configured_days():
    tariff = Tariff(name="T", unlock_fee=0, price_per_minute=30, daily_cap=2000, currency="EUR")
    segments = selectors.per_min_pricing(tariff=tariff, cap_days=2)
    assert segments == [
        {"start": 0, "rate": 0.3, "interval": 1, "end": 66},
        {"start": 66, "rate": 0.2, "interval": 1, "end": 67},
        {"start": 1440, "rate": 0.3, "interval": 1, "end": 1506},
        {"start": 1506, "rate": 0.2, "interval": 1, "end": 1507},
    ]


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (25, "EUR", "0.25"),
        (100, "EUR", "1"),
        (1, "EUR", "0.01"),
        (10, "EUR", "0.1"),
        (999_999_999, "EUR", "9999999.99"),
        (500, "JPY", "500"),
        (1234, "KWD", "1.234"),
        (7, "usd", "0.07"),
    ],
)
def test_minor_units_convert_exactly(amount, currency, expected):
    major = minor_to_major(amount=amount, currency=currency)
    assert major == Decimal(expected)
    assert repr(json_number(major)) == repr(json_number(Decimal(expected)))
    assert Decimal(repr(json_number(major))) == Decimal(expected)


def test_json_number_refuses_inexact_values():
    with pytest.raises(ValueError):
        json_number(Decimal("0.12345678901234567890"))


def test_description_states_the_prices():
    tariff = Tariff(name="T", unlock_fee=100, price_per_minute=25, daily_cap=None, currency="EUR")
    assert (
        selectors.pricing_plan_description(tariff=tariff)
        == "Unlock 1.00 EUR, then 0.25 EUR per started minute."
    )
