"""Rental cost: the "Cost rule" of docs/ARCHITECTURE.md, as a pure function.

minutes = ceil(seconds / 60): a started minute is paid, 0 s is 0 minutes.
Without a daily cap: total = unlock_fee + minutes * price_per_minute.
A rental whose rider reported a problem with the bike during it (``unlock_fee_waived`` in the
rental.finished event) pays no unlock fee: total = minute charges only.
With a daily cap the trip is cut into 24-hour windows counted from ``started_at``; each window's
minute charge is min(daily_cap, ceil(window_seconds / 60) * price_per_minute).
All amounts are integers in minor units. Durations are UTC seconds, so midnight or a DST change
never alters a price: only ``duration_seconds`` matters.
"""

from __future__ import annotations

from dataclasses import dataclass

SECONDS_PER_MINUTE = 60
SECONDS_PER_WINDOW = 24 * 60 * 60


@dataclass(frozen=True, slots=True)
class RideWindow:
    """One 24-hour window of a ride (the whole ride when the tariff has no cap)."""

    index: int
    seconds: int
    minutes: int
    uncapped_amount: int
    amount: int

    @property
    def capped(self) -> bool:
        return self.amount < self.uncapped_amount


@dataclass(frozen=True, slots=True)
class RentalCost:
    unlock_fee: int
    price_per_minute: int
    daily_cap: int | None
    duration_seconds: int
    minutes: int
    windows: tuple[RideWindow, ...]
    total: int
    unlock_fee_waived: bool = False

    @property
    def unlock_fee_charged(self) -> int:
        return 0 if self.unlock_fee_waived else self.unlock_fee


def billed_minutes(*, seconds: int) -> int:
    """Started minutes: ceil(seconds / 60) in integer arithmetic."""
    if seconds < 0:
        raise ValueError("seconds must be >= 0")
    return -(-seconds // SECONDS_PER_MINUTE)


def rental_cost(
    *,
    duration_seconds: int,
    unlock_fee: int,
    price_per_minute: int,
    daily_cap: int | None,
    unlock_fee_waived: bool = False,
) -> RentalCost:
    for name, value in (
        ("duration_seconds", duration_seconds),
        ("unlock_fee", unlock_fee),
        ("price_per_minute", price_per_minute),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer")
    if daily_cap is not None and (
        isinstance(daily_cap, bool) or not isinstance(daily_cap, int) or daily_cap < 0
    ):
        raise ValueError("daily_cap must be a non-negative integer or None")
    if not isinstance(unlock_fee_waived, bool):
        raise ValueError("unlock_fee_waived must be a boolean")

    if daily_cap is None:
        minutes = billed_minutes(seconds=duration_seconds)
        charge = minutes * price_per_minute
        windows = (RideWindow(0, duration_seconds, minutes, charge, charge),)
    else:
        windows_list: list[RideWindow] = []
        remaining = duration_seconds
        index = 0
        # A 0 s ride still has one (empty) window so the invoice shows a riding-time line.
        while True:
            seconds = min(remaining, SECONDS_PER_WINDOW)
            minutes = billed_minutes(seconds=seconds)
            uncapped = minutes * price_per_minute
            windows_list.append(RideWindow(index, seconds, minutes, uncapped, min(daily_cap, uncapped)))
            remaining -= seconds
            index += 1
            if remaining <= 0:
                break
        windows = tuple(windows_list)

    return RentalCost(
        unlock_fee=unlock_fee,
        price_per_minute=price_per_minute,
        daily_cap=daily_cap,
        duration_seconds=duration_seconds,
        minutes=sum(w.minutes for w in windows),
        windows=windows,
        total=(0 if unlock_fee_waived else unlock_fee) + sum(w.amount for w in windows),
        unlock_fee_waived=unlock_fee_waived,
    )
