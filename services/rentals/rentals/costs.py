"""What a finished rental costs: the "Cost rule" of docs/ARCHITECTURE.md, rentals' own copy.

Billing computes the invoice (services/billing-worker/billing/costs.py); rentals recomputes the total from
its own tariff snapshot and the rental's duration and refuses an invoice.issued whose amount differs, so a
wrong or forged amount is never charged. No service imports another, so the rule lives here too; the
tests pin both copies to the same cases.
"""

SECONDS_PER_MINUTE = 60
SECONDS_PER_WINDOW = 24 * 60 * 60


def billed_minutes(*, seconds: int) -> int:
    """Started minutes: ceil(seconds / 60); 0 s is 0 minutes."""
    if seconds < 0:
        raise ValueError("seconds must be >= 0")
    return -(-seconds // SECONDS_PER_MINUTE)


def rental_cost_total(
    *, duration_seconds: int, unlock_fee: int, price_per_minute: int, daily_cap: int | None
) -> int:
    """unlock_fee + minutes * price_per_minute; with a daily cap, each 24-hour window from the start pays
    at most daily_cap for its minutes. Integers in minor units."""
    if daily_cap is None:
        return unlock_fee + billed_minutes(seconds=duration_seconds) * price_per_minute
    total = unlock_fee
    remaining = duration_seconds
    while remaining > 0:
        seconds = min(remaining, SECONDS_PER_WINDOW)
        total += min(daily_cap, billed_minutes(seconds=seconds) * price_per_minute)
        remaining -= seconds
    return total


def tariff_snapshot_cost(
    *, tariff_snapshot: dict, duration_seconds: int, unlock_fee_waived: bool = False
) -> tuple[int, str]:
    """(amount, currency) of a rental from the tariff snapshot it was rented under; a waived unlock fee
    (the renter reported a problem, `rentals_rental.unlock_fee_waived`) is not charged."""
    return (
        rental_cost_total(
            duration_seconds=duration_seconds,
            unlock_fee=0 if unlock_fee_waived else tariff_snapshot["unlock_fee"],
            price_per_minute=tariff_snapshot["price_per_minute"],
            daily_cap=tariff_snapshot.get("daily_cap"),
        ),
        tariff_snapshot["currency"],
    )
