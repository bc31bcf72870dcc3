"""The confirmation mail: a signed, expiring, single-use link to GET /api/auth/verify?token=…"""

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage

from accounts.models import User

logger = logging.getLogger(__name__)

VERIFY_SALT = "velo.accounts.email-verification"
VERIFY_PATH = "/api/auth/verify"


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


def verification_email_send(*, user: User) -> bool:
    """Send the confirmation mail. A mail failure is logged, never fatal: the user can ask to resend."""
    link = verification_link_build(token=verification_token_make(user=user))
    hours = settings.AUTH_EMAIL_VERIFICATION_TTL_SECONDS // 3600
    body = (
        f"Hello {user.name},\n\n"
        "please confirm your email address for Velo by opening this link:\n\n"
        f"{link}\n\n"
        f"The link works once and expires in {hours} hours. If you did not sign up, ignore this mail.\n"
    )
    message = EmailMessage(
        subject="Confirm your Velo account",
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
    )
    try:
        message.send(fail_silently=False)
    except Exception:
        logger.exception("verification mail could not be sent", extra={"user_id": str(user.id)})
        return False
    return True
