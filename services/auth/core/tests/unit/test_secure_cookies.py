import pytest

pytestmark = pytest.mark.django_db

LOGIN = "/api/auth/admin/login/"  # the admin (on in test settings) sets the CSRF cookie


def test_cookies_are_secure_on_https_requests(client, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    response = client.get(LOGIN, HTTP_X_FORWARDED_PROTO="https")
    assert response.cookies["csrftoken"]["secure"] is True


def test_cookies_stay_usable_on_plain_http(client, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    response = client.get(LOGIN, HTTP_X_FORWARDED_PROTO="http")
    assert not response.cookies["csrftoken"]["secure"]
