"""Accounts people can trust (issue 19): password reset by mail, no lockout of the real owner, no
account enumeration by register. Black-box, through the gateway only."""

from __future__ import annotations

import ipaddress
import os
import random
import secrets
import uuid
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from e2e_support import REQUEST_TIMEOUT, HtmlForm, assert_problem, login, reset_link, session_from


def _new_password() -> str:
    return "Pw-" + secrets.token_urlsafe(12)


def test_password_reset_by_the_mailed_link(gateway_url, register_and_confirm, mailbox):
    account = register_and_confirm("reset")
    session_before = account.refresh_token

    # "Forgot password": the answer is the same for an unknown address.
    asked = requests.post(gateway_url + "/api/auth/password/reset", json={"email": account.email}, timeout=30)
    unknown = requests.post(
        gateway_url + "/api/auth/password/reset",
        json={"email": f"nobody-{uuid.uuid4().hex[:8]}@e2e.velo.example"},
        timeout=30,
    )
    assert asked.status_code == unknown.status_code == 202, (asked.text, unknown.text)
    assert asked.json() == unknown.json()

    # The mail arrives; the person opens the link in a browser: a page with a form.
    _, body = mailbox.wait_for(
        account.email, lambda subject, body: "password/reset/confirm" in body, timeout=30
    )
    link = reset_link(body)
    browser = requests.Session()
    if not link.startswith(gateway_url + "/"):  # PUBLIC_BASE_URL names another host: open it on the gateway
        parts = urlsplit(link)
        link = f"{gateway_url}{parts.path}?{parts.query}"
    page = browser.get(link, timeout=REQUEST_TIMEOUT)
    assert page.status_code == 200, page.text[:300]
    assert page.headers["Content-Type"].startswith("text/html")
    form = HtmlForm(page.text)
    assert form.method.lower() == "post" and "token" in form.fields, page.text[:500]

    # Fills in the new password twice and submits, as a browser does (application/x-www-form-urlencoded).
    new_password = _new_password()
    submitted = browser.post(
        urljoin(link, form.action),
        data={**form.fields, "new_password": new_password, "new_password_again": new_password},
        timeout=REQUEST_TIMEOUT,
    )
    assert submitted.status_code == 200 and "password has been changed" in submitted.text, submitted.text[
        :500
    ]

    # The old password and the old session are gone, the new password works.
    old = requests.post(
        gateway_url + "/api/auth/token",
        json={"email": account.email, "password": account.password},
        timeout=30,
    )
    assert_problem(old, 401, "invalid-credentials")
    refreshed = requests.post(
        gateway_url + "/api/auth/token/refresh", json={"refresh": session_before}, timeout=30
    )
    assert_problem(refreshed, 401, "token-invalid")
    assert login(gateway_url, account.email, new_password).status_code == 200

    # The link worked once: a second use (JSON, as an app would send it) is a 400 problem.
    again = requests.post(
        gateway_url + "/api/auth/password/reset/confirm",
        json={"token": form.fields["token"], "new_password": _new_password()},
        timeout=30,
    )
    assert_problem(again, 400, "token-invalid")


def test_register_with_an_existing_address_answers_like_a_new_one(gateway_url, register_and_confirm, mailbox):
    owner = register_and_confirm("owner")
    fresh = f"e2e-fresh-{uuid.uuid4().hex[:8]}@e2e.velo.example"
    payload = {"name": "Somebody Else", "password": _new_password()}
    existing = requests.post(
        gateway_url + "/api/auth/register", json={**payload, "email": owner.email}, timeout=30
    )
    new = requests.post(gateway_url + "/api/auth/register", json={**payload, "email": fresh}, timeout=30)
    assert existing.status_code == new.status_code == 201, (existing.text[:300], new.text[:300])
    assert existing.headers["Content-Type"] == new.headers["Content-Type"]
    assert existing.json().keys() == new.json().keys()
    assert existing.json()["email_verified"] is False and existing.json()["id"] != owner.id

    # The owner is told, and nothing changed for them.
    mailbox.wait_for(owner.email, lambda subject, body: "tried to register" in subject, timeout=30)
    assert login(gateway_url, owner.email, owner.password).status_code == 200


def _loopback_client_addresses(gateway_url: str) -> tuple[str, str]:
    if os.environ.get("E2E_CLIENTS_SHARE_ONE_ADDRESS"):
        pytest.skip("the gateway sees every client of this suite as one address (published Docker port)")
    host = urlsplit(gateway_url).hostname or ""
    try:
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError
    except ValueError:
        pytest.skip(f"the gateway {host} is not on this host's loopback: one client address only")
    # Two fresh loopback addresses per run, so earlier runs' counters never matter.
    attacker = f"127.{random.randint(1, 254)}.{random.randint(0, 255)}.{random.randint(2, 254)}"
    owner = f"127.{random.randint(1, 254)}.{random.randint(0, 255)}.{random.randint(2, 254)}"
    try:
        session_from(attacker).get(gateway_url + "/healthz", timeout=5)
    except requests.ConnectionError as exc:
        pytest.skip(f"cannot connect from {attacker} (gateway not listening on all of 127.0.0.0/8?): {exc}")
    return attacker, owner


def test_an_attackers_failures_do_not_lock_the_owner_out(gateway_url, register_and_confirm):
    victim = register_and_confirm("lockout")
    attacker_address, owner_address = _loopback_client_addresses(gateway_url)

    attacker = session_from(attacker_address)
    statuses = []
    for n in range(50):
        response = attacker.post(
            gateway_url + "/api/auth/token",
            json={"email": victim.email, "password": f"guess-{n}-{secrets.token_hex(4)}"},
            timeout=REQUEST_TIMEOUT,
        )
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert_problem(response, 429, "rate-limited")
            assert int(response.headers["Retry-After"]) >= 1  # auth's and the gateway's own 429s alike
        else:
            assert_problem(response, 401, "invalid-credentials")
    assert 429 in statuses, statuses  # the attacker was slowed down
    # The attacker's own address now waits even with the right password ...
    blocked = attacker.post(
        gateway_url + "/api/auth/token", json={"email": victim.email, "password": victim.password}, timeout=30
    )
    assert blocked.status_code == 429, blocked.text[:300]

    # ... but the owner, from an address that has not been failing, logs in at once.
    owner = session_from(owner_address)
    response = owner.post(
        gateway_url + "/api/auth/token", json={"email": victim.email, "password": victim.password}, timeout=30
    )
    assert response.status_code == 200, response.text[:300]
    assert response.json()["access"]
