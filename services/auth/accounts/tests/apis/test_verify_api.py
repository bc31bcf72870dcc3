import re
from urllib.parse import urlsplit

import pytest
from core.testing import assert_problem
from django.core import mail

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://gateway\.test(/api/auth/verify\?token=\S+)")
PASSWORD = "analytical-engine-1843"


def _register(api_client, email="ada@example.com"):
    response = api_client.post(
        "/api/auth/register", {"name": "Ada", "email": email, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 201
    return response.json()


def _last_link() -> str:
    return LINK.search(mail.outbox[-1].body).group(1)


def test_link_confirms_once_then_login_works(api_client):
    _register(api_client)
    link = _last_link()
    login = {"email": "ada@example.com", "password": PASSWORD}
    assert_problem(api_client.post("/api/auth/token", login, format="json"), 403, "email-not-verified")

    response = api_client.get(link)
    assert response.status_code == 200
    assert response.json() == {"status": "verified", "email": "ada@example.com", "email_verified": True}
    assert api_client.post("/api/auth/token", login, format="json").status_code == 200

    assert_problem(api_client.get(link), 400, "token-invalid")  # single use


def test_tampered_or_missing_token_is_400(api_client):
    _register(api_client)
    link = _last_link()
    path, query = urlsplit(link).path, urlsplit(link).query
    assert_problem(api_client.get(f"{path}?{query[:-3]}abc"), 400, "token-invalid")
    assert_problem(api_client.get("/api/auth/verify"), 400, "validation-error")
    assert_problem(api_client.get("/api/auth/verify?token="), 400, "validation-error")


def test_expired_link_is_400(api_client, settings):
    _register(api_client)
    settings.AUTH_EMAIL_VERIFICATION_TTL_SECONDS = -1
    body = assert_problem(api_client.get(_last_link()), 400, "token-invalid")
    assert "expired" in body["detail"]


def test_resend_sends_a_new_link_and_retires_the_old(api_client):
    _register(api_client)
    old_link = _last_link()
    response = api_client.post("/api/auth/verify/resend", {"email": "ADA@example.com"}, format="json")
    assert response.status_code == 202
    assert len(mail.outbox) == 2
    new_link = _last_link()
    assert new_link != old_link
    assert_problem(api_client.get(old_link), 400, "token-invalid")
    assert api_client.get(new_link).status_code == 200


def test_resend_is_silent_for_unknown_and_verified_addresses(api_client):
    assert (
        api_client.post("/api/auth/verify/resend", {"email": "ghost@example.com"}, format="json").status_code
        == 202
    )
    _register(api_client)
    api_client.get(_last_link())
    assert (
        api_client.post("/api/auth/verify/resend", {"email": "ada@example.com"}, format="json").status_code
        == 202
    )
    assert len(mail.outbox) == 1


def test_resend_validates_and_is_rate_limited(api_client, settings):
    settings.AUTH_RESEND_RATE_PER_ACCOUNT = 2
    assert_problem(
        api_client.post("/api/auth/verify/resend", {"email": "x"}, format="json"), 400, "validation-error"
    )
    for _ in range(2):
        assert (
            api_client.post("/api/auth/verify/resend", {"email": "a@example.com"}, format="json").status_code
            == 202
        )
    response = api_client.post("/api/auth/verify/resend", {"email": "a@example.com"}, format="json")
    assert_problem(response, 429, "rate-limited")
    assert int(response["Retry-After"]) >= 1


def test_resend_is_limited_per_client_address(api_client, settings):
    settings.AUTH_RESEND_RATE_PER_IP = 2
    for n in range(2):
        response = api_client.post("/api/auth/verify/resend", {"email": f"a{n}@example.com"}, format="json")
        assert response.status_code == 202
    response = api_client.post("/api/auth/verify/resend", {"email": "a9@example.com"}, format="json")
    assert_problem(response, 429, "rate-limited")
    assert int(response["Retry-After"]) >= 1
