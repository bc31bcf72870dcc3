import re

import pytest
from core.testing import assert_problem
from django.core import mail
from outbox.models import OutboxEvent

from accounts.models import User

pytestmark = pytest.mark.django_db

URL = "/api/auth/register"
GOOD = {"name": "Ada Lovelace", "email": "Ada@Example.com", "password": "analytical-engine-1843"}


def test_register_creates_unverified_account_and_sends_link(api_client, contract_validate):
    response = api_client.post(URL, GOOD, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert re.fullmatch(r"[0-9a-f-]{36}", body["id"])
    assert body["email"] == "Ada@example.com"  # domain normalised, local part kept
    assert body["name"] == "Ada Lovelace"
    assert body["is_active"] is True
    assert body["email_verified"] is False
    assert "password" not in body

    user = User.objects.get(id=body["id"])
    assert user.password != GOOD["password"] and user.check_password(GOOD["password"])

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["Ada@example.com"]
    assert "http://gateway.test/api/auth/verify?token=" in mail.outbox[0].body

    event = OutboxEvent.objects.get(event_type="user.registered")
    contract_validate(event.payload)
    assert event.payload["data"]["user_id"] == body["id"]


def test_an_existing_address_gets_the_same_answer_and_its_owner_a_mail(api_client):
    first = api_client.post(URL, GOOD, format="json")
    second = api_client.post(URL, {**GOOD, "email": "ADA@EXAMPLE.COM"}, format="json")
    assert second.status_code == first.status_code == 201
    assert second["Content-Type"] == first["Content-Type"]
    body = second.json()
    assert body.keys() == first.json().keys()
    assert body["id"] != first.json()["id"] and body["email_verified"] is False
    assert body["email"] == "ADA@example.com"  # as submitted, like a new account
    assert User.objects.count() == 1
    assert OutboxEvent.objects.filter(event_type="user.registered").count() == 1
    assert mail.outbox[-1].subject == "Someone tried to register with your address"
    assert mail.outbox[-1].to == ["Ada@example.com"]
    assert "token=" not in mail.outbox[-1].body


def test_register_is_limited_per_client_address(api_client, settings):
    settings.AUTH_REGISTER_RATE_PER_IP = 1
    assert api_client.post(URL, GOOD, format="json", HTTP_X_REAL_IP="198.51.100.3").status_code == 201
    response = api_client.post(
        URL, {**GOOD, "email": "b@example.com"}, format="json", HTTP_X_REAL_IP="198.51.100.3"
    )
    assert_problem(response, 429, "rate-limited")
    assert int(response["Retry-After"]) >= 1
    assert not User.objects.filter(email="b@example.com").exists()


@pytest.mark.parametrize(
    "password",
    ["short1", "password123", "1234567890123", "ada lovelace example"],
    ids=["too-short", "common", "numeric", "similar-to-name"],
)
def test_weak_passwords_are_400_with_field_errors(api_client, password):
    response = api_client.post(URL, {**GOOD, "password": password}, format="json")
    body = assert_problem(response, 400, "validation-error")
    assert body["errors"]["password"]
    assert User.objects.count() == 0


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "A", "password": "analytical-engine-1843"}, "email"),
        ({**GOOD, "email": "not-an-email"}, "email"),
        ({**GOOD, "name": ""}, "name"),
        ({"name": "A", "email": "a@example.com"}, "password"),
        ({**GOOD, "name": "x" * 151}, "name"),
    ],
)
def test_invalid_fields_are_400(api_client, payload, field):
    body = assert_problem(api_client.post(URL, payload, format="json"), 400, "validation-error")
    assert field in body["errors"]


def test_non_object_json_is_400(api_client):
    response = api_client.post(URL, "[1, 2]", content_type="application/json")
    assert_problem(response, 400, "validation-error")
