"""Every error leaves the service as application/problem+json with the contract shape."""

import pytest

from core.testing import assert_problem

pytestmark = pytest.mark.django_db


def test_unknown_path_is_404_problem(api_client):
    body = assert_problem(api_client.get("/api/auth/nope"), 404, "not-found")
    assert body["instance"] == "/api/auth/nope"
    assert_problem(api_client.get("/totally/elsewhere"), 404, "not-found")


def test_wrong_method_is_405_problem(api_client):
    response = api_client.get("/api/auth/register")
    assert_problem(response, 405, "method-not-allowed")
    assert "POST" in response["Allow"]


def test_form_body_is_415_problem(api_client):
    response = api_client.post("/api/auth/token", {"email": "a@example.com", "password": "x"})  # multipart
    assert_problem(response, 415, "unsupported-media-type")


def test_malformed_json_is_400_malformed_request(api_client):
    # One vocabulary with rentals and the notifier; `parse-error` (auth until issue 21) is a documented alias.
    response = api_client.post("/api/auth/token", "{not json", content_type="application/json")
    assert_problem(response, 400, "malformed-request")


def test_not_acceptable_is_406_problem(api_client):
    response = api_client.get("/api/auth/healthz", HTTP_ACCEPT="text/html")
    assert_problem(response, 406, "not-acceptable")


def test_unexpected_error_is_500_problem_without_internals(api_client, monkeypatch):
    def explode(**kwargs):
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr("tokens.apis.token_obtain", explode)
    api_client.raise_request_exception = False
    response = api_client.post("/api/auth/token", {"email": "a@example.com", "password": "x"}, format="json")
    body = assert_problem(response, 500, "internal-error")
    assert "hunter2" not in response.content.decode()
    assert body["detail"] == "An unexpected error occurred."


def test_request_id_is_echoed_and_reported(api_client):
    response = api_client.get("/api/auth/nope", HTTP_X_REQUEST_ID="req-123")
    assert response["X-Request-ID"] == "req-123"
    assert response.json()["request_id"] == "req-123"


def test_request_id_is_generated_when_missing_or_unsafe(api_client):
    response = api_client.get("/api/auth/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline")
    generated = response["X-Request-ID"]
    assert len(generated) == 32 and "\n" not in generated


def test_validation_problem_lists_field_errors(api_client):
    body = assert_problem(api_client.post("/api/auth/register", {}, format="json"), 400, "validation-error")
    assert set(body["errors"]) == {"name", "email", "password"}
    assert all(isinstance(msg, str) for msgs in body["errors"].values() for msg in msgs)


def test_token_problems_carry_the_bearer_challenge(api_client, make_user, login):
    """core/exception_handlers.py is the same file in every service; auth's token errors keep their shape."""
    missing = api_client.get("/api/auth/me")
    assert_problem(missing, 401, "not-authenticated")
    assert missing["WWW-Authenticate"].startswith("Bearer")

    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-jwt")
    garbled = api_client.get("/api/auth/me")
    body = assert_problem(garbled, 401, "token-invalid")
    assert body["detail"] == "The access token is invalid, expired or revoked."
    assert garbled["WWW-Authenticate"].startswith("Bearer")

    user = make_user()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {login(user)['access']}")
    user.is_active = False
    user.save(update_fields=["is_active"])
    disabled = api_client.get("/api/auth/me")
    assert_problem(disabled, 401, "account-disabled")
    assert disabled["WWW-Authenticate"].startswith("Bearer")
