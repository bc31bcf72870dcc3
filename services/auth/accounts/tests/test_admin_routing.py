import importlib

import pytest
from core.testing import assert_problem
from django.urls import clear_url_caches

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple-42"
LOGIN = "/api/auth/admin/login/"


def _reload_urls() -> None:
    import config.urls

    importlib.reload(config.urls)
    clear_url_caches()


@pytest.fixture
def admin_ui(settings):
    def set_enabled(enabled: bool) -> None:
        settings.ADMIN_UI_ENABLED = enabled
        _reload_urls()

    yield set_enabled
    settings.ADMIN_UI_ENABLED = True
    _reload_urls()


def test_the_admin_is_not_routed_unless_enabled(client, admin_ui, settings):
    from config.settings import base
    from django.conf import global_settings  # noqa: F401  (the default lives in config.settings.base)

    assert base.ADMIN_UI_ENABLED is False
    admin_ui(False)
    for path in ("/api/auth/admin/", LOGIN, "/api/auth/admin/accounts/user/"):
        assert_problem(client.get(path), 404, "not-found")
    assert client.get("/api/auth/healthz").status_code == 200
    admin_ui(True)
    assert client.get(LOGIN).status_code == 200


def _login(client, email, password, ip):
    return client.post(
        LOGIN, {"username": email, "password": password, "next": "/api/auth/admin/"}, HTTP_X_REAL_IP=ip
    )


def test_the_admin_login_is_throttled_like_token_logins(client, make_user, settings):
    settings.AUTH_LOGIN_FREE_FAILURES = 2
    operator = make_user(is_staff=True)
    for _ in range(3):
        assert (
            _login(client, operator.email, "wrong-password-1", "203.0.113.5").status_code == 200
        )  # form again
    response = _login(client, operator.email, PASSWORD, "203.0.113.5")
    assert_problem(response, 429, "rate-limited")
    assert int(response["Retry-After"]) >= 1
    # The operator from another address is not affected, and gets in.
    response = _login(client, operator.email, PASSWORD, "198.51.100.8")
    assert response.status_code == 302, response.content[:300]


def test_the_admin_login_counts_towards_the_address_ceiling(client, make_user, settings):
    settings.AUTH_LOGIN_RATE_PER_IP = 2
    for n in range(2):
        assert _login(client, f"nobody{n}@example.com", "wrong-password-1", "203.0.113.6").status_code == 200
    assert_problem(
        _login(client, "nobody9@example.com", "wrong-password-1", "203.0.113.6"), 429, "rate-limited"
    )
