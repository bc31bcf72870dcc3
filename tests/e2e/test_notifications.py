"""Rider notifications through the gateway (black box): Telegram linking with the deep-link code (the /start
update posted to the webhook with the secret, as Telegram would), the start message and the receipt in the
local Bot API sink (TELEGRAM_DIR/messages, one JSON file per sendMessage), the receipt once by mail, the
"top up" message after the charge made the wallet negative, a reservation reminder before expiry, nothing on
Telegram for a rider who unlinked.

Needs TELEGRAM_DIR and TELEGRAM_WEBHOOK_SECRET (`source .run/<stack>/env.sh`); skipped without them (e.g.
under compose, where Telegram is off).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import time
from pathlib import Path

import pytest
import requests
from e2e_support import assert_problem, env, rent, wait_billed, wait_until

_updates = itertools.count(int(time.time() * 1000) % 10**9)
_chats = itertools.count(int(time.time()) % 10**6 * 1000)


@pytest.fixture(scope="module")
def sink() -> Path:
    directory, secret = env("TELEGRAM_DIR"), env("TELEGRAM_WEBHOOK_SECRET")
    if not directory or not secret:
        pytest.skip("TELEGRAM_DIR/TELEGRAM_WEBHOOK_SECRET unset: no local Telegram Bot API sink")
    return Path(directory) / "messages"


def _messages(sink: Path, chat_id: int) -> list[dict]:
    found = []
    for path in sorted(sink.glob(f"*-{chat_id}.json")):
        found.append(json.loads(path.read_text()))
    return found


def _wait_message(sink: Path, chat_id: int, pattern: str, timeout: float = 30) -> dict:
    def found():
        return next((m for m in _messages(sink, chat_id) if re.search(pattern, m["text"])), None)

    return wait_until(
        found, timeout, interval=0.3, message=f"a Telegram message /{pattern}/ to chat {chat_id}"
    )


def _webhook(gateway_url: str, chat_id: int, text: str, secret: str | None) -> requests.Response:
    update = {
        "update_id": next(_updates),
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Rider"},
            "text": text,
        },
    }
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    return requests.post(
        gateway_url + "/api/notifications/telegram/webhook", json=update, headers=headers, timeout=30
    )


def _link(gateway_url: str, sink: Path, api) -> int:
    response = api.post("/api/notifications/telegram/link")
    assert response.status_code == 201, response.text[:300]
    body = response.json()
    match = re.fullmatch(r"https://t\.me/([A-Za-z0-9_]+)\?start=([A-Za-z0-9_-]+)", body["url"])
    assert match and match.group(2) == body["code"], body
    chat_id = next(_chats)
    answered = _webhook(gateway_url, chat_id, f"/start {body['code']}", env("TELEGRAM_WEBHOOK_SECRET"))
    assert answered.status_code == 200, answered.text[:300]
    _wait_message(sink, chat_id, "now receives your Velo notifications")
    assert api.get("/api/notifications/preferences").json()["telegram_linked"] is True
    return chat_id


def test_linked_rider_hears_start_and_one_receipt_on_both_channels(
    gateway_url, sink, register_and_confirm, fleet, mailbox
):
    rider = register_and_confirm("notify")
    api = rider.api()
    chat_id = _link(gateway_url, sink, api)
    [bike] = fleet.bikes(1)
    rental = rent(api, bike["id"])
    _wait_message(sink, chat_id, "has started")
    time.sleep(1.2)
    finished = api.post(f"/api/rentals/{rental['id']}/finish", json={"station_id": fleet.station_id()})
    assert finished.status_code == 200, finished.text[:300]
    billed = wait_billed(api, rental["id"], wait_until)
    invoice_id = billed["invoice_id"]
    _wait_message(sink, chat_id, re.escape(invoice_id))
    mailbox.wait_for(rider.email, lambda subject, text: "receipt" in subject.lower() and invoice_id in text)
    time.sleep(3)  # a duplicate would have arrived by now
    assert len([m for m in _messages(sink, chat_id) if invoice_id in m["text"]]) == 1
    receipts = [
        s for s, text in mailbox.messages_to(rider.email) if "receipt" in s.lower() and invoice_id in text
    ]
    assert len(receipts) == 1, receipts
    # a new rider's wallet starts at 0, so the charge made it negative: how much to top up, on both channels
    _wait_message(sink, chat_id, "Top up at least")
    mailbox.wait_for(rider.email, lambda subject, text: "top up" in subject.lower())


def test_reservation_reminder_arrives_before_expiry(gateway_url, sink, register_and_confirm, fleet):
    minutes, reminder = env("RESERVATION_MINUTES"), env("RESERVATION_REMINDER_SECONDS")
    if minutes is None or float(minutes) > 1 or reminder is None:
        pytest.skip("needs a short RESERVATION_MINUTES and RESERVATION_REMINDER_SECONDS (the test stacks)")
    rider = register_and_confirm("reminded")
    api = rider.api()
    chat_id = _link(gateway_url, sink, api)
    [bike] = fleet.bikes(1)
    response = api.post(f"/api/bikes/{bike['id']}/reservation")
    assert response.status_code == 201, response.text[:300]
    expires_at = dt.datetime.fromisoformat(response.json()["expires_at"].replace("Z", "+00:00"))
    message = _wait_message(sink, chat_id, "reservation ends in", timeout=float(minutes) * 60 + 10)
    assert message["date"] < expires_at.timestamp(), (message, expires_at)
    _wait_message(sink, chat_id, "reservation expired", timeout=float(minutes) * 60 + 30)


def test_an_unlinked_rider_gets_nothing_on_telegram(gateway_url, sink, register_and_confirm, fleet, mailbox):
    rider = register_and_confirm("unlinked")
    api = rider.api()
    chat_id = _link(gateway_url, sink, api)
    assert api.delete("/api/notifications/telegram").status_code == 204
    assert api.get("/api/notifications/preferences").json()["telegram_linked"] is False
    before = len(_messages(sink, chat_id))
    [bike] = fleet.bikes(1)
    rental = rent(api, bike["id"])
    finished = api.post(f"/api/rentals/{rental['id']}/finish", json={"station_id": fleet.station_id()})
    assert finished.status_code == 200, finished.text[:300]
    invoice_id = wait_billed(api, rental["id"], wait_until)["invoice_id"]
    mailbox.wait_for(rider.email, lambda subject, text: "receipt" in subject.lower() and invoice_id in text)
    assert len(_messages(sink, chat_id)) == before


def test_webhook_refuses_a_wrong_secret_and_answers_an_unknown_code(gateway_url, sink):
    chat_id = next(_chats)
    assert_problem(_webhook(gateway_url, chat_id, "/start nope", "wrong-secret"), 401)
    assert_problem(_webhook(gateway_url, chat_id, "/start nope", None), 401)
    time.sleep(1)
    assert _messages(sink, chat_id) == []
    answered = _webhook(gateway_url, chat_id, "/start no-such-code", env("TELEGRAM_WEBHOOK_SECRET"))
    assert answered.status_code == 200
    _wait_message(sink, chat_id, "unknown, already used or expired")


def test_preferences_through_the_gateway(gateway_url, rider):
    api = rider.api()
    assert api.get("/api/notifications/preferences").json()["receipts"] == {"email": True, "telegram": True}
    changed = api.patch("/api/notifications/preferences", json={"account": {"telegram": False}})
    assert changed.status_code == 200 and changed.json()["account"] == {"email": True, "telegram": False}
    assert_problem(api.patch("/api/notifications/preferences", json={"account": {"fax": True}}), 400)
    assert_problem(requests.get(gateway_url + "/api/notifications/preferences", timeout=30), 401)


def test_openapi_beside_the_other_two(gateway_url):
    schema = requests.get(gateway_url + "/api/notifications/schema", timeout=30)
    assert schema.status_code == 200, schema.text[:300]
    assert "/api/notifications/preferences" in schema.json()["paths"]
    assert "/api/notifications/schema" in requests.get(gateway_url + "/docs/", timeout=30).text
