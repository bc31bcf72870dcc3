"""Plain-text mail over SMTP, reusing one connection per process (reopened once when dropped)."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from email.utils import make_msgid

from billing.errors import TransientError

logger = logging.getLogger(__name__)


class PermanentMailError(Exception):
    """The server refused the message for good (5xx): retrying cannot help."""


class ReceiptMailer:
    def __init__(self, *, host: str, port: int, sender: str, timeout: float = 10):
        self.host = host
        self.port = port
        self.sender = sender
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        if self._smtp is None:
            self._smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        return self._smtp

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()

    def send(
        self,
        *,
        to: str,
        subject: str,
        body: str,
        message_id: str | None = None,
        message_id_domain: str = "velo.example",
    ) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Message-ID"] = message_id or make_msgid(domain=message_id_domain)
        message.set_content(body)
        last_error: Exception | None = None
        for attempt in (1, 2):
            try:
                self._open().send_message(message)
                return
            except smtplib.SMTPRecipientsRefused as exc:
                self._reset_after_refusal()
                raise PermanentMailError(f"recipient refused: {exc.recipients}") from exc
            except smtplib.SMTPResponseException as exc:
                self._reset_after_refusal()
                if 500 <= exc.smtp_code < 600:
                    raise PermanentMailError(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}") from exc
                last_error = exc
            except (smtplib.SMTPException, OSError) as exc:
                last_error = exc
                self.close()
            logger.warning("SMTP send to %s failed (attempt %d): %r", self.host, attempt, last_error)
        raise TransientError(f"SMTP {self.host}:{self.port}: {last_error!r}") from last_error

    def _reset_after_refusal(self) -> None:
        try:
            if self._smtp is not None:
                self._smtp.rset()
        except (smtplib.SMTPException, OSError):
            self.close()
