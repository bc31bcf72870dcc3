"""Real boundary: mail goes to the SMTP sink (aiosmtpd → Maildir); the link is clicked from the file."""

import email
import email.policy
import os
import re
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not (os.environ.get("EMAIL_HOST") and os.environ.get("EMAIL_PORT") and os.environ.get("MAIL_DIR")),
        reason="EMAIL_HOST/EMAIL_PORT/MAIL_DIR not set: no SMTP sink to test against",
    ),
]


def _find_mail(mail_dir: Path, recipient: str, timeout: float = 15.0) -> email.message.EmailMessage:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for sub in ("new", "cur"):
            for path in (mail_dir / sub).glob("*") if (mail_dir / sub).is_dir() else []:
                message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                if recipient in str(message.get("To", "")):
                    return message
        time.sleep(0.2)
    raise AssertionError(f"no mail for {recipient} in {mail_dir}")


def test_confirmation_mail_through_real_smtp_and_click(api_client, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = os.environ["EMAIL_HOST"]
    settings.EMAIL_PORT = int(os.environ["EMAIL_PORT"])
    settings.EMAIL_USE_TLS = False
    recipient = f"smtp-{uuid.uuid4().hex[:12]}@example.com"
    password = "analytical-engine-1843"

    response = api_client.post(
        "/api/auth/register", {"name": "Mail Test", "email": recipient, "password": password}, format="json"
    )
    assert response.status_code == 201

    message = _find_mail(Path(os.environ["MAIL_DIR"]), recipient)
    assert message["Subject"] == "Confirm your Velo account"
    body = message.get_body(preferencelist=("plain",)).get_content()
    match = re.search(r"(http://gateway\.test/api/auth/verify\?token=\S+)", body)
    assert match, body
    url = urlsplit(match.group(1))

    assert (
        api_client.post(
            "/api/auth/token", {"email": recipient, "password": password}, format="json"
        ).status_code
        == 403
    )
    clicked = api_client.get(f"{url.path}?{url.query}")
    assert clicked.status_code == 200, clicked.content
    assert clicked.json()["email_verified"] is True
    assert (
        api_client.post(
            "/api/auth/token", {"email": recipient, "password": password}, format="json"
        ).status_code
        == 200
    )
