"""User journeys through the gateway: rider, rider in debt, operator (issue 5)."""

from __future__ import annotations

import time
import uuid

import pytest
import requests
from e2e_support import (
    assert_problem,
    jwt_claims,
    ledger,
    login,
    refresh,
    rent,
    wait_billed,
    wallet_balance,
    webhook_post,
)


def test_rider_journey(gateway_url, register_and_confirm, fleet, mailbox, wait_until):
    # register → confirmation mail → confirm → log in (inside the fixture helper)
    rider = register_and_confirm("journey")
    api = rider.api()
    claims = jwt_claims(rider.access)
    assert claims["roles"] == ["rider"] and claims["email"] == rider.email

    me = api.get("/api/auth/me")
    assert me.status_code == 200 and me.json()["email_verified"] is True

    bike, other_bike = fleet.bikes(2)
    station_id = fleet.station_id()

    # list available bikes
    listing = api.get("/api/bikes")
    assert listing.status_code == 200, listing.text[:300]
    page = listing.json()
    assert {"results", "next", "previous"} <= page.keys()
    assert page["results"], "no available bikes listed"
    assert all(b["status"] == "available" for b in page["results"])
    detail = api.get(f"/api/bikes/{bike['id']}")
    assert detail.status_code == 200 and detail.json()["status"] == "available"

    balance_before = wallet_balance(api)

    # rent
    rental = rent(api, bike["id"])
    assert rental["status"] == "active" and rental["bike_id"] == bike["id"]
    assert rental["tariff"] and {"unlock_fee", "price_per_minute", "currency"} <= rental["tariff"].keys()
    assert api.get(f"/api/bikes/{bike['id']}").json()["status"] == "rented"
    active = api.get("/api/rentals/active")
    assert active.status_code == 200 and active.json()["id"] == rental["id"]

    # second rent refused
    second = api.post("/api/rentals", json={"bike_id": other_bike["id"]})
    assert_problem(second, 409, "active-rental-exists")

    time.sleep(1.2)  # a started minute is billed: make the ride last at least a second
    finished = api.post(f"/api/rentals/{rental['id']}/finish", json={"station_id": station_id})
    assert finished.status_code == 200, finished.text[:300]
    body = finished.json()
    assert body["status"] == "finished" and body["ended_at"] and body["duration_seconds"] >= 1
    assert body["end_station_id"] == station_id
    assert body["billing_status"] in ("pending", "billed")
    if body["billing_status"] == "pending":
        assert body["cost"] is None
    returned_bike = api.get(f"/api/bikes/{bike['id']}").json()
    assert returned_bike["status"] == "available" and returned_bike["station_id"] == station_id

    # billed within seconds
    started = time.monotonic()
    billed = wait_billed(api, rental["id"], wait_until)
    print(f"rider journey: billed {time.monotonic() - started:.1f}s after finishing, cost {billed['cost']}")
    cost = billed["cost"]
    assert isinstance(cost["amount"], int) and cost["amount"] >= 0
    assert cost["currency"] == rental["tariff"]["currency"]
    assert billed["invoice_id"]

    # the invoice JSON through the presigned URL carries the same total
    redirect = api.get(f"/api/rentals/{rental['id']}/invoice")
    assert redirect.status_code == 302, redirect.text[:300]
    location = redirect.headers["Location"]
    document = requests.get(location, timeout=30)
    assert document.status_code == 200, (
        f"presigned GET {location}: {document.status_code} {document.text[:300]}"
    )
    invoice = document.json()
    assert invoice["rental_id"] == rental["id"]
    assert invoice["invoice_id"] == billed["invoice_id"]
    assert invoice["total"] == cost
    assert invoice["rider"]["id"] == rider.id
    tampered = requests.get(location.replace("Signature=", "Signature=00"), timeout=30)
    assert tampered.status_code in (400, 403), "a tampered presigned URL must not serve the invoice"

    # wallet debited by the same amount, one charge in the ledger
    balance_after = wallet_balance(api)
    assert balance_after["currency"] == cost["currency"]
    assert balance_before["amount"] - balance_after["amount"] == cost["amount"]
    charges = [e for e in ledger(api) if e["kind"] == "rental_charge" and e["reference"] == rental["id"]]
    assert len(charges) == 1 and charges[0]["amount"]["amount"] == -cost["amount"], charges

    # receipt mail
    mailbox.wait_for(
        rider.email,
        lambda subject, text: "receipt" in subject.lower() and billed["invoice_id"] in text,
        timeout=30,
    )

    # history
    history = api.get("/api/rentals")
    assert history.status_code == 200
    newest = history.json()["results"][0]
    assert newest["id"] == rental["id"] and newest["billing_status"] == "billed" and newest["cost"] == cost
    assert_problem(api.get("/api/rentals/active"), 404)

    # refresh → logout → old refresh refused
    first_refresh = rider.refresh_token
    rotated = refresh(gateway_url, first_refresh)
    assert rotated.status_code == 200, rotated.text[:300]
    pair = rotated.json()
    assert pair["token_type"] == "Bearer" and pair["refresh"] != first_refresh
    me = requests.get(
        gateway_url + "/api/auth/me", headers={"Authorization": f"Bearer {pair['access']}"}, timeout=30
    )
    assert me.status_code == 200
    logout = requests.post(gateway_url + "/api/auth/logout", json={"refresh": pair["refresh"]}, timeout=30)
    assert logout.status_code == 204, logout.text[:300]
    assert_problem(refresh(gateway_url, pair["refresh"]), 401)
    assert_problem(refresh(gateway_url, first_refresh), 401)


def test_debt_blocks_renting_until_signed_top_up(
    gateway_url, rider, fleet, wait_until, top_up, webhook_secret
):
    api = rider.api()
    first, second = fleet.bikes(2)
    rental = rent(api, first["id"])
    time.sleep(1.2)
    assert api.post(f"/api/rentals/{rental['id']}/finish", json={}).status_code == 200
    billed = wait_billed(api, rental["id"], wait_until)
    balance = wallet_balance(api)
    if billed["cost"]["amount"] == 0:
        pytest.skip("the tariff in force charges nothing for a short ride: cannot create a debt")
    assert balance["amount"] == -billed["cost"]["amount"], balance

    refused = api.post("/api/rentals", json={"bike_id": second["id"]})
    assert_problem(refused, 402, "payment-required")
    assert_problem(api.get("/api/rentals/active"), 404)
    assert api.get(f"/api/bikes/{second['id']}").json()["status"] == "available"

    # an unsigned or wrongly signed top-up changes nothing
    forged = webhook_post(gateway_url, "not-the-secret", user_id=rider.id, amount=10_000_000)
    assert_problem(forged, 401, "invalid-signature")
    assert wallet_balance(api) == balance
    assert_problem(api.post("/api/rentals", json={"bike_id": second["id"]}), 402, "payment-required")

    # a partial top-up leaves the wallet negative: still refused
    debt = -balance["amount"]
    if debt > 1:
        top_up(rider.id, debt - 1, currency=balance["currency"])
        assert wallet_balance(api)["amount"] == -1
        assert_problem(api.post("/api/rentals", json={"bike_id": second["id"]}), 402, "payment-required")
        top_up(rider.id, 1001, currency=balance["currency"])
    else:
        top_up(rider.id, debt + 1000, currency=balance["currency"])
    assert wallet_balance(api)["amount"] == 1000

    allowed = rent(api, second["id"])
    assert api.post(f"/api/rentals/{allowed['id']}/finish", json={}).status_code == 200


@pytest.mark.admin
def test_operator_journey(gateway_url, admin, register_and_confirm, wait_until):
    admin_api = admin.api()
    victim = register_and_confirm("disabled")
    victim_api = victim.api()

    # admin adds a station and a bike; the bike appears in the list
    station = admin_api.post(
        "/api/stations",
        json={
            "name": f"E2E operator station {uuid.uuid4().hex[:6]}",
            "lat": 48.137,
            "lon": 11.575,
            "capacity": 12,
        },
    )
    assert station.status_code == 201, station.text[:300]
    station = station.json()
    assert station["capacity"] == 12 and station["available_bikes"] == 0
    bike = admin_api.post(
        "/api/bikes",
        json={
            "number": f"E2E-OP-{uuid.uuid4().hex[:8]}",
            "model": "operator-test",
            "station_id": station["id"],
        },
    )
    assert bike.status_code == 201, bike.text[:300]
    bike = bike.json()
    assert bike["status"] == "available" and bike["station_id"] == station["id"]
    listed = victim_api.get(f"/api/bikes?station_id={station['id']}")
    assert listed.status_code == 200
    assert [b["id"] for b in listed.json()["results"]] == [bike["id"]]
    assert victim_api.get(f"/api/stations/{station['id']}").json()["available_bikes"] == 1

    # riders cannot do operator things
    assert_problem(victim_api.post("/api/bikes", json={"number": "X", "model": "Y"}), 403)
    assert_problem(victim_api.patch(f"/api/auth/users/{victim.id}", json={"is_active": True}), 403)

    # the rider can use rentals before being disabled
    assert victim_api.get("/api/wallet").status_code == 200

    found = admin_api.get("/api/auth/users", params={"email": victim.email})
    assert found.status_code == 200
    assert [u["id"] for u in found.json()["results"]] == [victim.id]

    disabled = admin_api.patch(f"/api/auth/users/{victim.id}", json={"is_active": False})
    assert disabled.status_code == 200, disabled.text[:300]
    assert disabled.json()["is_active"] is False

    # refused by auth: login and refresh
    assert_problem(login(gateway_url, victim.email, victim.password), (401, 403))
    assert_problem(refresh(gateway_url, victim.refresh_token), (401, 403))

    # refused by rentals within a few seconds, although the access token has not expired
    token = victim.access

    def refused():
        response = requests.get(
            gateway_url + "/api/wallet", headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        return [response] if response.status_code == 403 else None  # a 4xx Response is falsy

    started = time.monotonic()
    (response,) = wait_until(refused, 15, interval=0.25, message="rentals refusing the disabled rider")
    print(f"operator journey: rentals refused the disabled rider after {time.monotonic() - started:.1f}s")
    assert_problem(response, 403, "account-disabled")
    rent_attempt = requests.post(
        gateway_url + "/api/rentals",
        json={"bike_id": bike["id"]},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert_problem(rent_attempt, 403)
    assert victim_api.get(f"/api/bikes/{bike['id']}", token=admin.token).json()["status"] == "available"
