"""Plain-text mail over SMTP: one short connection per message (the notifier sends few)."""

import smtplib
from email.message import EmailMessage

from django.conf import settings

from notifications.errors import PermanentError, TransientError


def mail_send(*, to: str, subject: str, body: str, message_id: str) -> None:
    message = EmailMessage()
    message["From"] = settings.EMAIL_FROM
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id
    message.set_content(body)
    try:
        with smtplib.SMTP(
            settings.EMAIL_HOST, settings.EMAIL_PORT, timeout=settings.EMAIL_TIMEOUT_SECONDS
        ) as smtp:
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        raise PermanentError(f"recipient refused: {exc.recipients}") from exc
    except smtplib.SMTPResponseException as exc:
        if 500 <= exc.smtp_code < 600:
            raise PermanentError(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}") from exc
        raise TransientError(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise TransientError(f"SMTP {settings.EMAIL_HOST}:{settings.EMAIL_PORT}: {exc!r}") from exc
