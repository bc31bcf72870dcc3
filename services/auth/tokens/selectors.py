import base64
import hashlib
from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from tokens.keys import public_keys
from tokens.models import RefreshFamily, RefreshToken


def refresh_token_hash(*, raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def refresh_token_get(*, raw: str) -> RefreshToken | None:
    if not raw or len(raw) > 512:
        return None
    return (
        RefreshToken.objects.select_related("family").filter(token_hash=refresh_token_hash(raw=raw)).first()
    )


def refresh_family_live_count(*, user_id: Any) -> int:
    return RefreshFamily.objects.filter(user_id=user_id, revoked_at__isnull=True).count()


def _b64uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jwk_from_public_key(*, kid: str, key: RSAPublicKey) -> dict[str, str]:
    numbers = key.public_numbers()
    return {
        "kty": "RSA",
        "use": "sig",
        "alg": "RS256",
        "kid": kid,
        "n": _b64uint(numbers.n),
        "e": _b64uint(numbers.e),
    }


def jwks_get() -> dict[str, list[dict[str, str]]]:
    return {"keys": [jwk_from_public_key(kid=kid, key=key) for kid, key in public_keys().items()]}
