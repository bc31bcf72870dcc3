"""Login throttling through the API (OWASP Authentication Cheat Sheet): failures count per (email,
client address) with growing delays, plus a ceiling per address over all emails; the owner is never
locked out by failures that came from elsewhere."""

from datetime import timedelta

import pytest
from core.models import FailureThrottle
from core.testing import assert_problem
from django.utils import timezone

pytestmark = pytest.mark.django_db

URL = "/api/auth/token"
PASSWORD = "correct-horse-battery-staple-42"


def _attempt(client, email, password="wrong-password-123", ip="203.0.113.7", peer="127.0.0.1"):
    return client.post(
        URL, {"email": email, "password": password}, format="json", HTTP_X_REAL_IP=ip, REMOTE_ADDR=peer
    )


@pytest.fixture
def policy(settings):
    settings.AUTH_LOGIN_FREE_FAILURES = 3
    settings.AUTH_LOGIN_DELAY_BASE_SECONDS = 2
    settings.AUTH_LOGIN_DELAY_MAX_SECONDS = 60
    settings.AUTH_LOGIN_RATE_PER_IP = 1000
    return settings


def test_an_attackers_failures_never_lock_the_owner_out(api_client, make_user, policy):
    user = make_user()
    statuses = [_attempt(api_client, user.email).status_code for _ in range(50)]
    assert statuses[:4] == [401] * 4 and set(statuses[4:]) == {429}
    refused = _attempt(api_client, user.email.upper(), PASSWORD)  # same pair, other spelling
    assert_problem(refused, 429, "rate-limited")
    # The owner, from an address that has not been failing, gets in at once.
    assert _attempt(api_client, user.email, PASSWORD, ip="198.51.100.20").status_code == 200


def test_delays_grow_and_every_429_says_how_long(api_client, make_user, policy):
    user = make_user()
    for _ in range(3):
        assert _attempt(api_client, user.email).status_code == 401  # free failures
    assert _attempt(api_client, user.email).status_code == 401  # 4th: a 2 s delay starts
    response = _attempt(api_client, user.email)
    assert_problem(response, 429, "rate-limited")
    assert 1 <= int(response["Retry-After"]) <= 2
    # Once the delay has passed the next failure doubles it.
    FailureThrottle.objects.update(next_allowed_at=timezone.now() - timedelta(seconds=1))
    assert _attempt(api_client, user.email).status_code == 401
    assert 3 <= int(_attempt(api_client, user.email)["Retry-After"]) <= 4
    assert FailureThrottle.objects.get().failures == 5


def test_a_success_forgets_the_pairs_failures(api_client, make_user, policy):
    user = make_user()
    for _ in range(3):
        assert _attempt(api_client, user.email).status_code == 401
    assert _attempt(api_client, user.email, PASSWORD).status_code == 200
    assert not FailureThrottle.objects.exists()
    for _ in range(3):
        assert _attempt(api_client, user.email).status_code == 401


def test_old_failures_are_forgotten(api_client, make_user, policy):
    policy.AUTH_LOGIN_FAILURE_RESET_SECONDS = 600
    user = make_user()
    for _ in range(4):
        _attempt(api_client, user.email)
    long_ago = timezone.now() - timedelta(seconds=601)
    FailureThrottle.objects.update(last_failure_at=long_ago, next_allowed_at=long_ago)
    assert _attempt(api_client, user.email).status_code == 401
    assert FailureThrottle.objects.get().failures == 1


def test_ip_ceiling_spans_accounts(api_client, settings):
    settings.AUTH_LOGIN_RATE_PER_IP = 4
    for n in range(4):
        assert _attempt(api_client, f"guess{n}@example.com").status_code == 401
    response = _attempt(api_client, "guess9@example.com")
    assert_problem(response, 429, "rate-limited")
    assert int(response["Retry-After"]) >= 1
    # Another client address is not affected.
    assert _attempt(api_client, "guess9@example.com", ip="198.51.100.1").status_code == 401


def test_successful_logins_do_not_use_up_the_budget(api_client, make_user, settings):
    settings.AUTH_LOGIN_RATE_PER_IP = 2
    settings.AUTH_LOGIN_FREE_FAILURES = 0
    user = make_user()
    for _ in range(5):
        assert _attempt(api_client, user.email, PASSWORD).status_code == 200


def test_a_spoofed_real_ip_from_outside_the_gateway_is_ignored(api_client, settings):
    settings.AUTH_LOGIN_RATE_PER_IP = 2
    for n in range(2):
        response = _attempt(api_client, f"x{n}@example.com", ip=f"10.9.9.{n}", peer="192.0.2.50")
        assert response.status_code == 401
    # Each request claimed another X-Real-IP, but the peer is not the gateway: one address, one budget.
    response = _attempt(api_client, "x9@example.com", ip="10.9.9.99", peer="192.0.2.50")
    assert_problem(response, 429, "rate-limited")


def test_claims_during_a_delay_change_nothing(make_user, policy):
    from core.exceptions import RateLimited
    from core.ratelimit import throttle_claim

    from tokens.services import login_throttle_policy

    policy.AUTH_LOGIN_FREE_FAILURES = 0
    outcomes = []
    for _ in range(5):
        try:
            outcomes.append(throttle_claim(scope="t", key="k", policy=login_throttle_policy()))
        except RateLimited:
            outcomes.append("429")
    assert outcomes == [1, "429", "429", "429", "429"]
