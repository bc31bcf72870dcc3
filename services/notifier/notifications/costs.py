"""The "Cost rule" of docs/ARCHITECTURE.md (the notifier's own copy, for "cost so far" and "finished with
cost"; billing's invoice stays the authority): minutes = ceil(seconds / 60); each 24-hour window from
the start pays min(daily_cap, minutes * price_per_minute); plus the unlock fee. Integers only."""

SECONDS_PER_WINDOW = 24 * 60 * 60


def _minutes(seconds: int) -> int:
    return -(-seconds // 60)


def rental_cost(*, duration_seconds: int, tariff: dict) -> int:
    price, cap = int(tariff["price_per_minute"]), tariff.get("daily_cap")
    total, remaining = int(tariff["unlock_fee"]), max(0, int(duration_seconds))
    while True:
        window = min(remaining, SECONDS_PER_WINDOW)
        charge = _minutes(window) * price
        total += charge if cap is None else min(int(cap), charge)
        remaining -= window
        if remaining <= 0:
            return total


def daily_cap_reached_after(*, tariff: dict) -> int | None:
    """Seconds into a ride after which its first day costs the cap; None without a cap or past a day."""
    price, cap = int(tariff["price_per_minute"]), tariff.get("daily_cap")
    if cap is None or price <= 0:
        return None
    minutes = -(-int(cap) // price)
    seconds = (minutes - 1) * 60 + 1  # the first second of the minute whose charge reaches the cap
    return seconds if seconds < SECONDS_PER_WINDOW else None


def money(amount: int, currency: str) -> str:
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount) // 100}.{abs(amount) % 100:02d} {currency}"
