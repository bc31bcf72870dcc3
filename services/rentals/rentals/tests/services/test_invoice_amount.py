"""rental_apply_invoice charges only what the rental's own tariff snapshot and duration cost."""

import datetime as dt
import uuid

import pytest
from django.utils import timezone
from fleet.models import Bike
from wallets.models import LedgerEntry

from rentals.costs import rental_cost_total, tariff_snapshot_cost
from rentals.models import Rental
from rentals.services import InvoiceRejected, rental_apply_invoice

# The "Cost rule" of docs/ARCHITECTURE.md; billing's copy (billing/costs.py) is pinned to the same rule,
# with the contract examples' 1390 s -> 700, by its own tests.
CASES = [
    # duration_seconds, unlock_fee, price_per_minute, daily_cap, total
    (0, 100, 25, None, 100),
    (1, 100, 25, None, 125),
    (60, 100, 25, None, 125),
    (61, 100, 25, None, 150),
    (1390, 100, 25, 2000, 700),
    (1390, 100, 25, None, 700),
    (86_400, 0, 10, 2000, 2000),
    (86_401, 0, 10, 2000, 2010),
    (2 * 86_400 + 600, 50, 10, 2000, 50 + 2000 + 2000 + 100),
    (3600, 0, 10, 0, 0),
]


@pytest.mark.parametrize(("seconds", "unlock", "per_minute", "cap", "total"), CASES)
def test_cost_rule(seconds, unlock, per_minute, cap, total):
    assert (
        rental_cost_total(
            duration_seconds=seconds, unlock_fee=unlock, price_per_minute=per_minute, daily_cap=cap
        )
        == total
    )


def test_snapshot_cost_takes_the_snapshot_currency():
    snapshot = {"unlock_fee": 100, "price_per_minute": 25, "daily_cap": 2000, "currency": "PLN"}
    assert tariff_snapshot_cost(tariff_snapshot=snapshot, duration_seconds=1390) == (700, "PLN")


@pytest.fixture
def finished(db, tariff, station):
    bike = Bike.objects.create(number=f"B-{uuid.uuid4().hex[:6]}", model="m", station=station)
    ended = timezone.now() - dt.timedelta(minutes=1)
    return Rental.objects.create(
        user_id=uuid.uuid4(),
        user_email="ada@example.com",
        user_name="Ada",
        bike=bike,
        bike_number=bike.number,
        status="finished",
        started_at=ended - dt.timedelta(seconds=1390),
        ended_at=ended,
        duration_seconds=1390,
        tariff=tariff,
        tariff_snapshot=tariff.snapshot(),  # 100 + 25 per started minute, cap 2000: 700
    )


def _apply(rental: Rental, **overrides) -> bool:
    values = {
        "rental_id": rental.id,
        "user_id": rental.user_id,
        "invoice_id": uuid.uuid4(),
        "amount": 700,
        "currency": "EUR",
        "s3_key": f"invoices/x/{rental.id}.json",
    } | overrides
    return rental_apply_invoice(**values)


@pytest.mark.parametrize("overrides", [{"amount": 0}, {"amount": 699}, {"amount": 701}, {"currency": "USD"}])
def test_an_amount_other_than_the_rentals_own_is_refused_and_charges_nothing(finished, overrides):
    with pytest.raises(InvoiceRejected, match="differs from its tariff snapshot"):
        _apply(finished, **overrides)
    finished.refresh_from_db()
    assert finished.invoice_id is None and finished.cost_amount is None and finished.billed_at is None
    assert not LedgerEntry.objects.exists()


def test_the_rentals_own_amount_is_charged_once(finished):
    assert _apply(finished) is True
    assert _apply(finished) is False  # a second invoice for a billed rental changes nothing
    finished.refresh_from_db()
    assert (finished.cost_amount, finished.cost_currency) == (700, "EUR")
    assert LedgerEntry.objects.get().amount == -700


def test_a_mismatch_is_refused_also_after_a_tariff_edit(finished, tariff):
    # The snapshot counts, not the tariff as it is now: an edit never reprices a rental.
    tariff.price_per_minute = 1
    tariff.save()
    with pytest.raises(InvoiceRejected):
        _apply(finished, amount=100 + 24)
    assert _apply(finished) is True


def test_a_waived_unlock_fee_is_not_expected(finished):
    """The renter reported a problem: billing charges no unlock fee (the "Cost rule"'s waiver), and rentals'
    check must expect the same amount, else every waived rental's invoice would be dead-lettered."""
    Rental.objects.filter(id=finished.id).update(unlock_fee_waived=True)
    with pytest.raises(InvoiceRejected, match="differs from its tariff snapshot"):
        _apply(finished)  # 700 includes the unlock fee
    assert _apply(finished, amount=600) is True
    finished.refresh_from_db()
    assert finished.cost_amount == 600


def test_snapshot_cost_with_a_waived_unlock_fee():
    snapshot = {"unlock_fee": 100, "price_per_minute": 25, "daily_cap": 2000, "currency": "EUR"}
    assert tariff_snapshot_cost(tariff_snapshot=snapshot, duration_seconds=0, unlock_fee_waived=True) == (
        0,
        "EUR",
    )
