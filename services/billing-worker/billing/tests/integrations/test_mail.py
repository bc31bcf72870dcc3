"""ReceiptMailer against the real SMTP sink (messages land in MAIL_DIR)."""

import os
import uuid

from billing.integrations.mail import ReceiptMailer
from billing.tests.real import mails_to, require_env, wait_until

pytestmark = require_env("EMAIL_HOST", "EMAIL_PORT", "MAIL_DIR")


def test_sends_plain_text_mail_reusing_the_connection():
    mailer = ReceiptMailer(
        host=os.environ["EMAIL_HOST"],
        port=int(os.environ["EMAIL_PORT"]),
        sender="Velo <no-reply@velo.example>",
    )
    address = f"rider-{uuid.uuid4().hex[:10]}@example.com"
    try:
        mailer.send(to=address, subject="Receipt 1", body="Total: 7.00 EUR\n")
        first_connection = mailer._smtp
        mailer.send(to=address, subject="Receipt 2", body="Total: 8.00 EUR\n")
        assert mailer._smtp is first_connection
        # a connection the server dropped is reopened
        mailer._smtp.close()
        mailer.send(to=address, subject="Receipt 3", body="Total: 9.00 EUR\n")
    finally:
        mailer.close()

    messages = wait_until(lambda: len(mails_to(address)) == 3 and mails_to(address), what="3 mails")
    subjects = sorted(m["Subject"] for m in messages)
    assert subjects == ["Receipt 1", "Receipt 2", "Receipt 3"]
    message = next(m for m in messages if m["Subject"] == "Receipt 1")
    assert message.get_content_type() == "text/plain"
    assert "7.00 EUR" in message.get_payload(decode=True).decode()


def test_non_ascii_subject_and_body_arrive_intact():
    from email.header import decode_header, make_header

    mailer = ReceiptMailer(
        host=os.environ["EMAIL_HOST"],
        port=int(os.environ["EMAIL_PORT"]),
        sender="Velo <no-reply@velo.example>",
    )
    address = f"rider-{uuid.uuid4().hex[:10]}@example.com"
    try:
        mailer.send(
            to=address,
            subject="Quittung: Café Zoë",
            body="Gesamt: 7,00 €\n",
            message_id="<receipt-u@velo.example>",
        )
    finally:
        mailer.close()
    [message] = wait_until(lambda: mails_to(address), what="1 mail")
    assert str(make_header(decode_header(message["Subject"]))) == "Quittung: Café Zoë"
    assert message["Message-ID"] == "<receipt-u@velo.example>"
    assert message.get_payload(decode=True).decode(message.get_content_charset()).rstrip() == "Gesamt: 7,00 €"
