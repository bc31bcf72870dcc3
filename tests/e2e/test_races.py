"""Races through the gateway: many clients released by one barrier at the same instant (issue 5)."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import requests
from e2e_support import assert_problem, ledger, rent, wait_billed, wallet_balance, webhook_sign


def fire_together(gateway_url: str, calls: list[Callable[[requests.Session], requests.Response]]) -> list:
    """Run every call in its own thread with its own warmed-up connection, all released by one barrier."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        session = requests.Session()
        try:
            session.get(gateway_url + "/healthz", timeout=10)  # open the connection before the start signal
            barrier.wait(timeout=60)
            return call(session)
        finally:
            session.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as executor:
        return list(executor.map(run, calls))


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_hundred_riders_one_bike(gateway_url, many_riders, fleet):
    riders = many_riders(100)
    (bike,) = fleet.bikes(1)
    tokens = [r.token for r in riders]

    def attempt(token):
        return lambda s: s.post(
            gateway_url + "/api/rentals", json={"bike_id": bike["id"]}, headers=bearer(token), timeout=60
        )

    responses = fire_together(gateway_url, [attempt(t) for t in tokens])
    statuses = Counter(r.status_code for r in responses)
    print(f"100 riders / 1 bike: {dict(statuses)}")
    assert statuses == {201: 1, 409: 99}, statuses
    for response in responses:
        if response.status_code == 409:
            assert_problem(response, 409, "bike-unavailable")
    winner = next(r for r, resp in zip(riders, responses, strict=True) if resp.status_code == 201)
    rental = next(resp.json() for resp in responses if resp.status_code == 201)

    api = winner.api()
    assert api.get(f"/api/bikes/{bike['id']}").json()["status"] == "rented"
    assert api.get("/api/rentals/active").json()["id"] == rental["id"]
    actives = 0
    for rider in riders:
        response = requests.get(gateway_url + "/api/rentals/active", headers=bearer(rider.token), timeout=30)
        assert response.status_code in (200, 404), response.text[:300]
        actives += response.status_code == 200
    assert actives == 1
    assert api.post(f"/api/rentals/{rental['id']}/finish", json={}).status_code == 200


def test_one_rider_twenty_bikes(gateway_url, rider, fleet):
    bikes = fleet.bikes(20)
    token = rider.token

    def attempt(bike_id):
        return lambda s: s.post(
            gateway_url + "/api/rentals", json={"bike_id": bike_id}, headers=bearer(token)
        )

    responses = fire_together(gateway_url, [attempt(b["id"]) for b in bikes])
    statuses = Counter(r.status_code for r in responses)
    print(f"1 rider / 20 bikes: {dict(statuses)}")
    assert statuses == {201: 1, 409: 19}, statuses
    for response in responses:
        if response.status_code == 409:
            assert_problem(response, 409, "active-rental-exists")
    api = rider.api()
    rented = [b for b in bikes if api.get(f"/api/bikes/{b['id']}").json()["status"] == "rented"]
    assert len(rented) == 1
    history = api.get("/api/rentals?page_size=100").json()["results"]
    assert len(history) == 1 and history[0]["bike_id"] == rented[0]["id"]
    assert api.post(f"/api/rentals/{history[0]['id']}/finish", json={}).status_code == 200


def test_concurrent_finish_bills_once(gateway_url, rider, fleet, wait_until, top_up):
    top_up(rider.id, 10_000)
    api = rider.api()
    (bike,) = fleet.bikes(1)
    station_id = fleet.station_id()
    rental = rent(api, bike["id"])
    time.sleep(1.1)
    token = rider.token

    def finish(s):
        return s.post(
            gateway_url + f"/api/rentals/{rental['id']}/finish",
            json={"station_id": station_id},
            headers=bearer(token),
        )

    responses = fire_together(gateway_url, [finish] * 10)
    statuses = Counter(r.status_code for r in responses)
    print(f"10 concurrent finishes: {dict(statuses)}")
    assert statuses == {200: 10}, [r.text[:200] for r in responses]
    bodies = [r.json() for r in responses]
    assert {b["id"] for b in bodies} == {rental["id"]}
    assert len({b["ended_at"] for b in bodies}) == 1, "every finish must return the same end time"

    billed = wait_billed(api, rental["id"], wait_until)
    time.sleep(3)  # give a duplicate event time to arrive and (wrongly) charge again
    charges = [e for e in ledger(api) if e["kind"] == "rental_charge" and e["reference"] == rental["id"]]
    history = [r for r in api.get("/api/rentals?page_size=100").json()["results"] if r["id"] == rental["id"]]
    print(f"concurrent finish: charges={len(charges)} rentals={len(history)} invoice={billed['invoice_id']}")
    assert len(charges) == 1 and charges[0]["amount"]["amount"] == -billed["cost"]["amount"]
    assert len(history) == 1
    assert wallet_balance(api)["amount"] == 10_000 - billed["cost"]["amount"]
    assert api.get(f"/api/rentals/{rental['id']}").json()["invoice_id"] == billed["invoice_id"]


def test_fifty_webhook_deliveries_credit_once(gateway_url, rider, webhook_secret):
    api = rider.api()
    before = wallet_balance(api)["amount"]
    transaction_id = f"e2e-race-{uuid.uuid4()}"
    body = (
        f'{{"transaction_id": "{transaction_id}", "user_id": "{rider.id}", "amount": 777, "currency": "EUR"}}'
    ).encode()
    headers = {"Content-Type": "application/json", "X-Signature": webhook_sign(webhook_secret, body)}

    def deliver(s):
        return s.post(gateway_url + "/api/payments/webhook", data=body, headers=headers)

    responses = fire_together(gateway_url, [deliver] * 50)
    statuses = Counter(r.status_code for r in responses)
    applied = sum(1 for r in responses if r.status_code == 200 and r.json().get("applied") is True)
    print(f"50 webhook deliveries: {dict(statuses)} applied={applied}")
    assert statuses == {200: 50}, [r.text[:200] for r in responses if r.status_code != 200][:3]
    assert applied == 1
    assert wallet_balance(api)["amount"] == before + 777
    top_ups = [e for e in ledger(api) if e["kind"] == "top_up" and e["reference"] == transaction_id]
    assert len(top_ups) == 1 and top_ups[0]["amount"] == {"amount": 777, "currency": "EUR"}
