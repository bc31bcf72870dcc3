import hashlib
import hmac

from core.exceptions import InvalidSignature
from django.conf import settings

SIGNATURE_PREFIX = "sha256="


def verify_payment_signature(*, body: bytes, header: str | None) -> None:
    """X-Signature: sha256=<hex HMAC-SHA256 of the raw body>; constant-time comparison."""
    secret = settings.PAYMENTS_WEBHOOK_SECRET
    if not secret:
        raise InvalidSignature("Webhook secret is not configured.")
    if not header or not header.startswith(SIGNATURE_PREFIX):
        raise InvalidSignature("Missing or malformed X-Signature header.")
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), header[len(SIGNATURE_PREFIX) :].strip().lower().encode()):
        raise InvalidSignature("Signature does not match the body.")
