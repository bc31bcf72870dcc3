"""Plain-text mail over SMTP, reusing one connection per process (reopened once when dropped)."""

from __future__ import annotations

import logging
import smtplib
from email.charset import QP, Charset
from email.header import Header
from email.message import EmailMessage
from email.mime.text import MIMEText
from email.utils import make_msgid, parseaddr

from billing.errors import TransientError

logger = logging.getLogger(__name__)


class PermanentMailError(Exception):
    """The server refused the message for good (5xx): retrying cannot help."""


_UTF8_QP = Charset("utf-8")
_UTF8_QP.body_encoding = QP


def _compact_message(*, sender: str, to: str, subject: str, body: str, message_id: str) -> MIMEText:
    """The same text/plain message as EmailMessage builds, with the legacy (compat32) API, which costs a
    quarter of the CPU (the default policy's header parsing dominates a receipt). Only for ASCII
    addresses; a non-ASCII header value is RFC 2047-encoded."""
    message = MIMEText(body, "plain", "us-ascii" if body.isascii() else _UTF8_QP)
    message["From"] = sender if sender.isascii() else Header(sender, "utf-8")
    message["To"] = to
    message["Subject"] = subject if subject.isascii() else Header(subject, "utf-8")
    message["Message-ID"] = message_id
    return message


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
        message_id = message_id or make_msgid(domain=message_id_domain)
        compact = to.isascii() and parseaddr(self.sender)[1].isascii()
        if compact:
            message = _compact_message(
                sender=self.sender, to=to, subject=subject, body=body, message_id=message_id
            )
            payload, envelope_from = message.as_bytes(), parseaddr(self.sender)[1]
        else:  # an internationalized address: EmailMessage + send_message negotiate SMTPUTF8
            message = EmailMessage()
            message["From"] = self.sender
            message["To"] = to
            message["Subject"] = subject
            message["Message-ID"] = message_id
            message.set_content(body)
        last_error: Exception | None = None
        for attempt in (1, 2):
            try:
                if compact:
                    self._open().sendmail(envelope_from, [to], payload)
                else:
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
