import pytest
from core.testing import assert_problem

pytestmark = pytest.mark.django_db

URL = "/api/auth/token"
PASSWORD = "correct-horse-battery-staple-42"


def _attempt(client, email, password="wrong-password-123", ip="203.0.113.7"):
    return client.post(URL, {"email": email, "password": password}, format="json", HTTP_X_REAL_IP=ip)


def test_account_limit_returns_429_with_retry_after(api_client, make_user, settings):
    settings.AUTH_LOGIN_RATE_PER_ACCOUNT = 3
    settings.AUTH_LOGIN_RATE_WINDOW_SECONDS = 120
    user = make_user()
    for _ in range(3):
        assert _attempt(api_client, user.email).status_code == 401
    response = _attempt(api_client, user.email.upper())  # same account, different spelling
    assert_problem(response, 429, "rate-limited")
    assert 1 <= int(response["Retry-After"]) <= 120
    # Even the right password is refused until the window passes: the limit protects the account.
    assert _attempt(api_client, user.email, PASSWORD).status_code == 429


def test_ip_limit_spans_accounts(api_client, make_user, settings):
    settings.AUTH_LOGIN_RATE_PER_IP = 4
    settings.AUTH_LOGIN_RATE_PER_ACCOUNT = 100
    for n in range(4):
        assert _attempt(api_client, f"guess{n}@example.com").status_code == 401
    assert_problem(_attempt(api_client, "guess9@example.com"), 429, "rate-limited")
    # Another client IP is not affected.
    assert _attempt(api_client, "guess9@example.com", ip="198.51.100.1").status_code == 401


def test_successful_logins_do_not_use_up_the_budget(api_client, make_user, settings):
    settings.AUTH_LOGIN_RATE_PER_ACCOUNT = 2
    settings.AUTH_LOGIN_RATE_PER_IP = 2
    user = make_user()
    for _ in range(5):
        assert _attempt(api_client, user.email, PASSWORD).status_code == 200


def test_client_ip_comes_from_the_gateways_last_forwarded_hop(api_client, make_user, settings):
    settings.AUTH_LOGIN_RATE_PER_IP = 2
    settings.AUTH_LOGIN_RATE_PER_ACCOUNT = 100
    for n in range(2):
        response = api_client.post(
            URL,
            {"email": f"x{n}@example.com", "password": "wrong-password-1"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"10.9.9.{n}, 192.0.2.50",  # spoofed first entries vary
        )
        assert response.status_code == 401
    response = api_client.post(
        URL,
        {"email": "x9@example.com", "password": "wrong-password-1"},
        format="json",
        HTTP_X_FORWARDED_FOR="10.0.0.99, 192.0.2.50",
    )
    assert_problem(response, 429, "rate-limited")
