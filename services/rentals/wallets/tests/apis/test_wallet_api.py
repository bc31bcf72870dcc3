import uuid

import pytest

from wallets.services import wallet_charge_rental, wallet_top_up

pytestmark = pytest.mark.django_db


def test_new_rider_has_zero_eur_balance(rider):
    assert rider.get("/api/wallet").json() == {"balance": {"amount": 0, "currency": "EUR"}}
    assert rider.get("/api/wallet/transactions").json()["results"] == []


def test_ledger_newest_first_with_reasons_and_references(rider, rider_id):
    rental_id = uuid.uuid4()
    wallet_top_up(user_id=rider_id, amount=1000, currency="EUR", transaction_id="tx-a")
    wallet_charge_rental(
        user_id=rider_id, rental_id=rental_id, amount=700, currency="EUR", invoice_number="INV-1"
    )
    assert rider.get("/api/wallet").json()["balance"] == {"amount": 300, "currency": "EUR"}
    entries = rider.get("/api/wallet/transactions").json()["results"]
    assert [(e["kind"], e["amount"]["amount"], e["reference"]) for e in entries] == [
        ("rental_charge", -700, str(rental_id)),
        ("top_up", 1000, "tx-a"),
    ]
    assert entries[0]["balance_after"] == {"amount": 300, "currency": "EUR"}
    assert "INV-1" in entries[0]["reason"]


def test_admin_lists_wallets_filters_and_reads_ledgers(admin, rider):
    a, b = uuid.uuid4(), uuid.uuid4()
    wallet_top_up(user_id=a, amount=500, currency="EUR", transaction_id="tx-1")
    wallet_top_up(user_id=b, amount=200, currency="EUR", transaction_id="tx-2")
    everyone = admin.get("/api/wallets").json()["results"]
    assert {w["user_id"] for w in everyone} == {str(a), str(b)}
    only_a = admin.get("/api/wallets", {"user_id": str(a)}).json()["results"]
    assert [(w["user_id"], w["balance"]["amount"]) for w in only_a] == [(str(a), 500)]
    ledger = admin.get(only_a[0]["transactions_url"]).json()["results"]
    assert [e["reference"] for e in ledger] == ["tx-1"]
    assert admin.get("/api/wallets", {"user_id": "x"}).status_code == 400


def test_rider_cannot_use_admin_wallet_endpoints(rider):
    assert rider.get("/api/wallets").status_code == 403
    assert rider.get(f"/api/wallets/{uuid.uuid4()}/transactions").status_code == 403
