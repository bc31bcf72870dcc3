"""Account mails: confirmation, password reset, "someone tried to register with your address".

Links are signed, expiring and single use. Mails leave from a small background thread pool
(AUTH_MAIL_ASYNC, on by default) so a request takes the same time whether it sent a mail or not: the
answer and its timing never tell whether an address has an account. A mail that cannot be sent is
logged; the person can ask again (a crash between the answer and the send loses that one mail).
"""

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts.models import User

logger = logging.getLogger(__name__)

VERIFY_SALT = "velo.accounts.email-verification"
VERIFY_PATH = "/api/auth/verify"
RESET_SALT = "velo.accounts.password-reset"
RESET_PATH = "/api/auth/password/reset/confirm"

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _mail_executor() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="account-mail")
        return _executor


def _deliver(message: EmailMessage, kind: str) -> bool:
    try:
        message.send(fail_silently=False)
    except Exception:
        logger.exception("account mail could not be sent", extra={"mail": kind})
        return False
    return True


def mail_send(*, message: EmailMessage, kind: str) -> None:
    """Hand the mail to the background sender (or send it now when AUTH_MAIL_ASYNC is off)."""
    if settings.AUTH_MAIL_ASYNC:
        _mail_executor().submit(_deliver, message, kind)
    else:
        _deliver(message, kind)


def _message(*, user: User, subject: str, body: str) -> EmailMessage:
    return EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[user.email])


# ---------------------------------------------------------------------------- email confirmation


def verification_token_make(*, user: User) -> str:
    return signing.dumps({"u": str(user.id), "n": user.email_verification_nonce}, salt=VERIFY_SALT)


def verification_token_read(*, token: str) -> dict[str, str]:
    """Raises signing.BadSignature (or SignatureExpired) for a forged, altered or expired token."""
    payload = signing.loads(token, salt=VERIFY_SALT, max_age=settings.AUTH_EMAIL_VERIFICATION_TTL_SECONDS)
    if not isinstance(payload, dict) or not {"u", "n"} <= payload.keys():
        raise signing.BadSignature("unexpected payload")
    return payload


def verification_link_build(*, token: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}{VERIFY_PATH}?{urlencode({'token': token})}"


def verification_email_send(*, user: User) -> None:
    link = verification_link_build(token=verification_token_make(user=user))
    hours = settings.AUTH_EMAIL_VERIFICATION_TTL_SECONDS // 3600
    body = (
        f"Hello {user.name},\n\n"
        "please confirm your email address for Velo by opening this link:\n\n"
        f"{link}\n\n"
        f"The link works once and expires in {hours} hours. If you did not sign up, ignore this mail.\n"
    )
    mail_send(message=_message(user=user, subject="Confirm your Velo account", body=body), kind="verify")


# ---------------------------------------------------------------------------- password reset


def password_fingerprint(*, user: User) -> str:
    """Changes whenever the password does (new salt and hash): a reset link works once."""
    return salted_hmac(RESET_SALT, f"{user.pk}|{user.password}", algorithm="sha256").hexdigest()[:32]


def password_reset_token_make(*, user: User) -> str:
    return signing.dumps({"u": str(user.id), "p": password_fingerprint(user=user)}, salt=RESET_SALT)


def password_reset_token_read(*, token: str) -> dict[str, str]:
    """Raises signing.BadSignature (or SignatureExpired) for a forged, altered or expired token."""
    payload = signing.loads(token, salt=RESET_SALT, max_age=settings.PASSWORD_RESET_TTL_SECONDS)
    if not isinstance(payload, dict) or not {"u", "p"} <= payload.keys():
        raise signing.BadSignature("unexpected payload")
    if not all(isinstance(payload[key], str) for key in ("u", "p")):
        raise signing.BadSignature("unexpected payload")
    return payload


def password_reset_token_matches(*, user: User, payload: dict[str, str]) -> bool:
    return constant_time_compare(password_fingerprint(user=user), payload["p"])


def password_reset_link_build(*, token: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}{RESET_PATH}?{urlencode({'token': token})}"


def password_reset_email_send(*, user: User) -> None:
    link = password_reset_link_build(token=password_reset_token_make(user=user))
    minutes = settings.PASSWORD_RESET_TTL_SECONDS // 60
    body = (
        f"Hello {user.name},\n\n"
        "someone (hopefully you) asked to reset the password of your Velo account. "
        "Choose a new password here:\n\n"
        f"{link}\n\n"
        f"The link works once and expires in {minutes} minutes. Setting a new password signs you out "
        "everywhere. If you did not ask for this, ignore this mail: your password stays as it is.\n"
    )
    mail_send(message=_message(user=user, subject="Reset your Velo password", body=body), kind="reset")


def register_attempt_email_send(*, user: User) -> None:
    body = (
        f"Hello {user.name},\n\n"
        "someone tried to register a new Velo account with your email address, which already has one. "
        "Nothing was changed.\n\n"
        'If it was you: log in with your password, or use "Forgot password" in the Velo app to get a '
        "reset link. If it was not you, ignore this mail.\n"
    )
    mail_send(
        message=_message(user=user, subject="Someone tried to register with your address", body=body),
        kind="register-attempt",
    )
