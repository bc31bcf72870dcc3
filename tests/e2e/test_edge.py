"""The gateway is the public edge: clients cannot choose their own address, and the admin is not public."""

from __future__ import annotations

import itertools
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from e2e_support import assert_problem

# More than any burst a deployment of the test suite allows (AUTH_TOKEN_BURST 200 on the test stacks).
MAX_REQUESTS = 900


def test_a_spoofed_forwarded_for_does_not_escape_the_per_address_limit(gateway_url):
    """Every request names another client in X-Forwarded-For; the limit still counts them as one."""
    url = gateway_url + "/api/auth/token/refresh"
    addresses = (f"203.0.113.{n % 250 + 1}" for n in itertools.count())
    statuses: list[int] = []

    def attempt(address: str) -> int:
        response = requests.post(
            url, json={"refresh": "not-a-token"}, headers={"X-Forwarded-For": address}, timeout=15
        )
        return response.status_code

    with ThreadPoolExecutor(max_workers=8) as executor:
        while len(statuses) < MAX_REQUESTS and 429 not in statuses:
            statuses += executor.map(attempt, itertools.islice(addresses, 40))
    counts = {status: statuses.count(status) for status in set(statuses)}
    print(f"[edge] {len(statuses)} refreshes, each with its own X-Forwarded-For: {counts}")
    # Let the bucket drain before the next test logs anyone in from this address.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and attempt("198.51.100.1") == 429:
        time.sleep(1)
    assert 429 in statuses, f"no 429 after {len(statuses)} requests: X-Forwarded-For was believed"
    assert set(statuses) <= {400, 401, 429}, counts


@pytest.mark.parametrize("path", ["/api/auth/admin/", "/api/auth/admin/login/"])
def test_the_django_admin_is_not_routed(gateway_url, path):
    assert_problem(requests.get(gateway_url + path, timeout=15), 404, "not-found")
