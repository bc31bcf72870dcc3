import json
import threading
import uuid

import pytest
from django.db import connection
from rest_framework.test import APIClient

from wallets.models import LedgerEntry, Wallet

URL = "/api/payments/webhook"


def _body(**overrides) -> bytes:
    payload = {
        "transaction_id": f"tx-{uuid.uuid4()}",
        "user_id": str(uuid.uuid4()),
        "amount": 1500,
        "currency": "EUR",
    }
    payload.update(overrides)
    return json.dumps(payload).encode()


def _post(body: bytes, signature: str | None):
    headers = {} if signature is None else {"HTTP_X_SIGNATURE": signature}
    return APIClient().post(URL, data=body, content_type="application/json", **headers)


@pytest.mark.django_db
def test_valid_top_up_credits_wallet(sign):
    user_id = uuid.uuid4()
    body = _body(user_id=str(user_id), transaction_id="tx-1")
    response = _post(body, sign(body))
    assert response.status_code == 200, response.content
    assert response.json() == {
        "transaction_id": "tx-1",
        "applied": True,
        "balance": {"amount": 1500, "currency": "EUR"},
    }
    assert Wallet.objects.get(user_id=user_id).balance == 1500
    entry = LedgerEntry.objects.get()
    assert (entry.kind, entry.reference, entry.amount, entry.balance_after) == ("top_up", "tx-1", 1500, 1500)


@pytest.mark.django_db
def test_replayed_webhook_credits_once(sign):
    user_id = uuid.uuid4()
    body = _body(user_id=str(user_id))
    assert _post(body, sign(body)).json()["applied"] is True
    again = _post(body, sign(body))
    assert again.status_code == 200 and again.json()["applied"] is False
    assert Wallet.objects.get(user_id=user_id).balance == 1500
    assert LedgerEntry.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "signature",
    [None, "", "sha256=", "sha256=deadbeef", "md5=abc", "WRONG"],
)
def test_bad_or_missing_signature_is_401_and_changes_nothing(sign, signature):
    body = _body()
    response = _post(body, signature)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"].endswith("/invalid-signature")
    assert not Wallet.objects.exists() and not LedgerEntry.objects.exists()


@pytest.mark.django_db
def test_signature_of_another_body_or_secret_is_401(sign):
    body = _body()
    assert _post(body, sign(_body())).status_code == 401
    assert _post(body, sign(body, secret="other-secret")).status_code == 401
    tampered = body.replace(b"1500", b"9500")
    assert _post(tampered, sign(body)).status_code == 401
    assert not LedgerEntry.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1,2]",
        _body(amount=0),
        _body(amount=-100),
        _body(amount=12.5),
        _body(amount="1500"),
        _body(amount=True),
        _body(currency="eur"),
        _body(user_id="nope"),
        json.dumps({"user_id": str(uuid.uuid4()), "amount": 1, "currency": "EUR"}).encode(),
    ],
)
def test_malformed_body_with_valid_signature_is_400(sign, body):
    response = _post(body, sign(body))
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert not LedgerEntry.objects.exists()


@pytest.mark.django_db
def test_currency_other_than_wallet_is_400(sign):
    user_id = uuid.uuid4()
    Wallet.objects.create(user_id=user_id, balance=0, currency="EUR")
    body = _body(user_id=str(user_id), currency="USD")
    assert _post(body, sign(body)).status_code == 400


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicate_webhooks_credit_once(sign):
    user_id = uuid.uuid4()
    body = _body(user_id=str(user_id), transaction_id="tx-concurrent")
    signature = sign(body)
    barrier = threading.Barrier(10)
    statuses, applied = [], []

    def worker():
        try:
            barrier.wait(timeout=10)
            response = _post(body, signature)
            statuses.append(response.status_code)
            applied.append(response.json()["applied"])
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert statuses == [200] * 10
    assert sorted(applied) == [False] * 9 + [True]
    assert Wallet.objects.get(user_id=user_id).balance == 1500
    assert LedgerEntry.objects.filter(reference="tx-concurrent").count() == 1


@pytest.mark.django_db
def test_first_top_up_in_foreign_currency_is_400_and_creates_no_wallet_balance(sign):
    user_id = uuid.uuid4()
    body = _body(user_id=str(user_id), currency="USD")
    assert _post(body, sign(body)).status_code == 400
    assert not LedgerEntry.objects.exists()
    assert not Wallet.objects.filter(user_id=user_id).exclude(balance=0).exists()
