"""The channels' boundaries for real: python-telegram-bot against tools/fake_telegram over HTTP, and the
SMTP sink of a running stack (skipped without EMAIL_HOST/EMAIL_PORT/MAIL_DIR)."""

import os
import time
import uuid
from email import message_from_bytes
from pathlib import Path

import pytest

from notifications.errors import ChatBlocked, TransientError
from notifications.integrations import mail, telegram


def test_send_message_lands_in_the_sink(fake_telegram):
    telegram.send_message(chat_id=1234, text="Hello from Velo")
    (message,) = fake_telegram.messages(1234)
    assert message["text"] == "Hello from Velo"
    assert telegram.bot_username() == "velo_test_bot"


def test_a_blocked_chat_is_chat_blocked(fake_telegram):
    (fake_telegram.root / "blocked").write_text("66\n")
    with pytest.raises(ChatBlocked):
        telegram.send_message(chat_id=66, text="x")
    assert fake_telegram.messages(66) == []


def test_429_carries_retry_after(fake_telegram):
    (fake_telegram.root / "rate-limit").write_text("3")
    with pytest.raises(TransientError) as caught:
        telegram.send_message(chat_id=5, text="x")
    assert caught.value.retry_after == 3
    telegram.send_message(chat_id=5, text="again")  # the next one goes through
    assert [m["text"] for m in fake_telegram.messages(5)] == ["again"]


def test_an_unreachable_bot_api_is_transient(settings):
    settings.TELEGRAM_API_BASE_URL = "http://127.0.0.1:9"
    with pytest.raises(TransientError):
        telegram.send_message(chat_id=5, text="x")


def test_set_webhook(fake_telegram):
    telegram.set_webhook(url="https://velo.example/api/notifications/telegram/webhook", secret_token="s3cret")
    assert "s3cret" in (fake_telegram.root / "webhook.json").read_text()


@pytest.mark.skipif(
    not (os.environ.get("EMAIL_HOST") and os.environ.get("MAIL_DIR")),
    reason="EMAIL_HOST/EMAIL_PORT/MAIL_DIR unset (source .run/<stack>/env.sh)",
)
def test_mail_reaches_the_smtp_sink(settings):
    settings.EMAIL_HOST, settings.EMAIL_PORT = os.environ["EMAIL_HOST"], int(os.environ["EMAIL_PORT"])
    to = f"notifier-{uuid.uuid4().hex[:8]}@example.com"
    mail.mail_send(to=to, subject="Your Velo receipt X", body="Thanks\n", message_id="<t@velo.example>")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for path in Path(os.environ["MAIL_DIR"], "new").iterdir():
            message = message_from_bytes(path.read_bytes())
            if message["To"] == to:
                assert message["Subject"] == "Your Velo receipt X"
                return
        time.sleep(0.2)
    pytest.fail("mail not in the sink")
