"""A forged invoice.issued changes nothing (issue 19): each service talks to RabbitMQ as its own user,
allowed only its own exchanges and queues, and RabbitMQ refuses a user_id that is not the connection's.

Black-box: the rider side goes through the gateway; the forger uses the broker credentials found in the
stack's env (RENTALS_AMQP_URL, AUTH_AMQP_URL; the tests skip without them, e.g. against compose in CI,
where the broker is not published). The test with billing stopped needs VELO_STACK_CTL (a fault test).
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime

import pika
import pytest
from e2e_support import env, rent, wait_billed, wallet_balance
from pika.exceptions import ChannelClosedByBroker

FORGERS = ("RENTALS_AMQP_URL", "AUTH_AMQP_URL")


@pytest.fixture(scope="module")
def forger_urls() -> dict[str, str]:
    urls = {name: env(name) for name in FORGERS}
    if not all(urls.values()):
        pytest.skip(f"{' and '.join(FORGERS)} are not set: no broker credentials to forge with")
    return urls


def _user(url: str) -> str:
    return pika.URLParameters(url).credentials.username


def _forged_invoice(*, rental: dict, user_id: str, amount: int) -> dict:
    invoice_id = str(uuid.uuid4())
    now = datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": "invoice.issued",
        "version": 1,
        "occurred_at": now,
        "producer": "billing-worker",
        "data": {
            "invoice_id": invoice_id,
            "invoice_number": f"INV-{now[:4]}{now[5:7]}-{uuid.UUID(rental['id']).hex.upper()}",
            "rental_id": rental["id"],
            "user_id": user_id,
            "amount": amount,
            "currency": rental["tariff"]["currency"],
            "s3_key": f"invoices/{now[:4]}/{now[5:7]}/{rental['id']}.json",
            "issued_at": now,
        },
    }


def _publish(url: str, *, exchange: str, routing_key: str, event: dict, user_id: str | None) -> str:
    """A confirmed publish: 'confirmed', or the broker's refusal as 'refused <code>'."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.basic_publish(
            exchange=exchange,
            routing_key=routing_key,
            body=json.dumps(event).encode(),
            properties=pika.BasicProperties(
                content_type="application/json",
                delivery_mode=2,
                message_id=event["event_id"],
                type=event["event_type"],
                user_id=user_id,
            ),
        )
        return "confirmed"
    except ChannelClosedByBroker as exc:
        return f"refused {exc.reply_code}"
    finally:
        if connection.is_open:
            connection.close()


def _forge_every_way(urls: dict[str, str], *, rental: dict, user_id: str, amount: int) -> dict[str, str]:
    """Every way a service's credentials could try to pass an invoice.issued off as billing's."""
    billing = _user(env("BILLING_AMQP_URL") or "amqp://billing@localhost/")
    outcomes = {}
    for name, url in urls.items():
        own = "rentals.events" if name.startswith("RENTALS") else "auth.events"
        attempts = {
            "billing.events": ("billing.events", "invoice.issued", _user(url)),
            "billing.events as billing": ("billing.events", "invoice.issued", billing),
            "straight into rentals.inbox": ("", "rentals.inbox", None),
            "own exchange as billing": (own, "invoice.issued", billing),
            # allowed, but nothing binds invoice.issued on a non-billing exchange: the message goes nowhere
            "own exchange as itself": (own, "invoice.issued", _user(url)),
        }
        for label, (exchange, routing_key, claimed) in attempts.items():
            event = _forged_invoice(rental=rental, user_id=user_id, amount=amount)
            outcomes[f"{name}: {label}"] = _publish(
                url, exchange=exchange, routing_key=routing_key, event=event, user_id=claimed
            )
    return outcomes


def _assert_refused(outcomes: dict[str, str]) -> None:
    for attempt, outcome in outcomes.items():
        if attempt.endswith("own exchange as itself"):
            assert outcome == "confirmed", (attempt, outcome)
        elif attempt.endswith("as billing"):
            # a user_id other than the connection's user (406), unless the exchange itself is refused (403)
            assert outcome in ("refused 403", "refused 406"), (attempt, outcome)
        else:
            assert outcome == "refused 403", (attempt, outcome)


def test_forged_invoice_for_a_billed_rental_changes_nothing(rider, fleet, top_up, wait_until, forger_urls):
    api = rider.api()
    top_up(rider.id, 10_000)
    rental = rent(api, fleet.bikes(1)[0]["id"])
    assert api.post(f"/api/rentals/{rental['id']}/finish", json={}).status_code == 200
    billed = wait_billed(api, rental["id"], wait_until)
    balance = wallet_balance(api)

    outcomes = _forge_every_way(forger_urls, rental=rental, user_id=rider.id, amount=0)
    print(f"[broker] forged invoice.issued for a billed rental: {outcomes}")
    _assert_refused(outcomes)
    time.sleep(2)  # what got through (nothing should) has been consumed by now
    assert api.get(f"/api/rentals/{rental['id']}").json() == billed
    assert wallet_balance(api) == balance


@pytest.mark.faults
def test_forged_invoice_while_billing_is_down_changes_nothing(
    rider, fleet, top_up, wait_until, forger_urls, stack
):
    api = rider.api()
    top_up(rider.id, 10_000)
    balance = wallet_balance(api)
    stack("stop", "billing-worker")
    try:
        rental = rent(api, fleet.bikes(1)[0]["id"])
        assert api.post(f"/api/rentals/{rental['id']}/finish", json={}).status_code == 200
        outcomes = _forge_every_way(forger_urls, rental=rental, user_id=rider.id, amount=0)
        print(f"[fault] forged invoice.issued while billing is stopped: {outcomes}")
        _assert_refused(outcomes)
        time.sleep(3)
        body = api.get(f"/api/rentals/{rental['id']}").json()
        assert body["billing_status"] != "billed" and body["cost"] is None, body
        assert wallet_balance(api) == balance
    finally:
        stack("start", "billing-worker")
    billed = wait_billed(api, rental["id"], wait_until, timeout=90)
    assert billed["cost"]["amount"] > 0  # the genuine invoice, computed by billing
    assert wallet_balance(api)["amount"] == balance["amount"] - billed["cost"]["amount"]
