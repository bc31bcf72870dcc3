import uuid

import pytest
from core.exceptions import ValidationFailed

from wallets.models import LedgerEntry, Wallet
from wallets.services import wallet_charge_rental, wallet_top_up

pytestmark = pytest.mark.django_db


def test_charge_once_per_rental_even_if_repeated():
    user_id, rental_id = uuid.uuid4(), uuid.uuid4()
    first = wallet_charge_rental(user_id=user_id, rental_id=rental_id, amount=700, currency="EUR")
    second = wallet_charge_rental(user_id=user_id, rental_id=rental_id, amount=700, currency="EUR")
    assert (first.applied, second.applied) == (True, False)
    assert Wallet.objects.get(user_id=user_id).balance == -700
    assert LedgerEntry.objects.count() == 1


def test_top_up_must_be_positive():
    with pytest.raises(ValidationFailed):
        wallet_top_up(user_id=uuid.uuid4(), amount=0, currency="EUR", transaction_id="t")


def test_balance_equals_sum_of_ledger():
    user_id = uuid.uuid4()
    for index, amount in enumerate([500, 250, 125]):
        wallet_top_up(user_id=user_id, amount=amount, currency="EUR", transaction_id=f"t{index}")
    wallet_charge_rental(user_id=user_id, rental_id=uuid.uuid4(), amount=1000, currency="EUR")
    wallet = Wallet.objects.get(user_id=user_id)
    assert wallet.balance == sum(e.amount for e in LedgerEntry.objects.filter(wallet=wallet)) == -125
