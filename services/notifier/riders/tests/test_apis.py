"""HTTP: preferences, Telegram linking and the webhook; bad input is problem+json and changes nothing."""

import datetime as dt
import uuid

import pytest
from django.utils import timezone
from notifications.models import InboxEvent, Notification
from rest_framework.test import APIClient

from riders.models import Rider, TelegramLinkCode

pytestmark = pytest.mark.django_db
SECRET = {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": "test-webhook-secret"}


def _update(update_id: int, chat_id: int, text: str) -> dict:
    return {
        "update_id": update_id,
        "message": {"message_id": 1, "chat": {"id": chat_id, "type": "private"}, "text": text},
    }


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    return response.json()


def test_preferences_default_and_update(rider_client):
    client = rider_client()
    body = client.get("/api/notifications/preferences").json()
    assert body == {
        "receipts": {"email": True, "telegram": True},
        "reminders": {"email": True, "telegram": True},
        "account": {"email": True, "telegram": True},
        "telegram_linked": False,
    }
    changed = client.patch("/api/notifications/preferences", {"reminders": {"email": False}}, format="json")
    assert changed.status_code == 200 and changed.json()["reminders"] == {"email": False, "telegram": True}
    rider = Rider.objects.get(user_id=client.user_id)
    assert rider.reminders_email is False and rider.email  # the address came from the token


@pytest.mark.parametrize(
    "body",
    [{"sms": {"email": True}}, {"receipts": {"pigeon": True}}, {"receipts": {"email": "maybe"}}, ["x"]],
)
def test_bad_preferences_change_nothing(rider_client, body):
    client = rider_client()
    _problem(client.patch("/api/notifications/preferences", body, format="json"), 400)
    assert not Rider.objects.exists()


def test_the_api_needs_a_token():
    _problem(APIClient().get("/api/notifications/preferences"), 401)
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    _problem(bad.post("/api/notifications/telegram/link"), 401)


def test_link_then_start_binds_the_chat(rider_client, fake_telegram):
    client = rider_client()
    link = client.post("/api/notifications/telegram/link")
    assert link.status_code == 201, link.content
    body = link.json()
    assert body["url"] == f"https://t.me/velo_test_bot?start={body['code']}"
    webhook = APIClient().post(
        "/api/notifications/telegram/webhook",
        _update(1, 777, f"/start {body['code']}"),
        format="json",
        **SECRET,
    )
    assert webhook.status_code == 200 and webhook.json() == {"result": "linked"}
    assert Rider.objects.get(user_id=client.user_id).telegram_chat_id == 777
    assert client.get("/api/notifications/preferences").json()["telegram_linked"] is True
    # the code is single-use
    again = APIClient().post(
        "/api/notifications/telegram/webhook",
        _update(2, 888, f"/start {body['code']}"),
        format="json",
        **SECRET,
    )
    assert again.json() == {"result": "invalid-code"}
    reply = Notification.objects.get(chat_id=888)
    assert reply.context["template"] == "telegram_link_invalid"


def test_an_expired_code_is_answered_in_the_chat(rider_client):
    user_id = uuid.uuid4()
    TelegramLinkCode.objects.create(
        code="old",
        user_id=user_id,
        created_at=timezone.now(),
        expires_at=timezone.now() - dt.timedelta(seconds=1),
    )
    response = APIClient().post(
        "/api/notifications/telegram/webhook", _update(5, 99, "/start old"), format="json", **SECRET
    )
    assert response.json() == {"result": "invalid-code"}
    assert not Rider.objects.filter(telegram_chat_id=99).exists()
    assert Notification.objects.get(chat_id=99).context["template"] == "telegram_link_invalid"


@pytest.mark.parametrize("headers", [{}, {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": "wrong"}])
def test_a_wrong_webhook_secret_is_401_and_stores_nothing(headers):
    response = APIClient().post(
        "/api/notifications/telegram/webhook", _update(9, 1, "/start x"), format="json", **headers
    )
    _problem(response, 401)
    assert not InboxEvent.objects.exists() and not Notification.objects.exists()


@pytest.mark.parametrize(
    "body", [{"message": {}}, {"update_id": "x"}, {"update_id": 1, "message": {"chat": {}}}]
)
def test_a_malformed_update_is_400(body):
    _problem(APIClient().post("/api/notifications/telegram/webhook", body, format="json", **SECRET), 400)
    assert not InboxEvent.objects.exists()


def test_stop_and_delete_unlink(rider_client):
    client = rider_client()
    Rider.objects.create(user_id=client.user_id, telegram_chat_id=555)
    stop = APIClient().post(
        "/api/notifications/telegram/webhook", _update(11, 555, "/stop"), format="json", **SECRET
    )
    assert stop.json() == {"result": "unlinked"}
    assert Rider.objects.get(user_id=client.user_id).telegram_chat_id is None
    Rider.objects.filter(user_id=client.user_id).update(telegram_chat_id=556)
    assert client.delete("/api/notifications/telegram").status_code == 204
    assert Rider.objects.get(user_id=client.user_id).telegram_chat_id is None


def test_a_repeated_update_is_applied_once():
    first = APIClient().post(
        "/api/notifications/telegram/webhook", _update(21, 3, "hello"), format="json", **SECRET
    )
    second = APIClient().post(
        "/api/notifications/telegram/webhook", _update(21, 3, "hello"), format="json", **SECRET
    )
    assert first.json() == {"result": "help"} and second.json() == {"result": "duplicate"}
    assert Notification.objects.count() == 1


def test_link_without_a_bot_token_is_503(rider_client, settings):
    settings.TELEGRAM_BOT_TOKEN = None
    _problem(rider_client().post("/api/notifications/telegram/link"), 503)


def test_readyz_says_whether_telegram_is_on(settings):
    settings.TELEGRAM_BOT_TOKEN = None
    body = APIClient().get("/readyz").json()
    assert body["details"]["channels"]["telegram"].startswith("off")


def test_schema_lists_the_operations():
    paths = APIClient().get("/api/notifications/schema").json()["paths"]
    assert {"/api/notifications/preferences", "/api/notifications/telegram/link"} <= set(paths)
