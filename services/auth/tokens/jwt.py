"""RS256 access tokens through djangorestframework-simplejwt, with a `kid` header and key selection.

Only RS256 is ever accepted (so `alg: none` and HS256-with-the-public-key are refused by PyJWT), the
verifying key is picked by `kid` from JWT_PUBLIC_KEYS_DIR, and `iss`/`aud`/`exp` are checked.
"""

from typing import Any

import jwt as pyjwt
from accounts.models import User
from django.conf import settings
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.exceptions import TokenBackendError
from rest_framework_simplejwt.tokens import AccessToken as SimpleAccessToken

from tokens.keys import public_keys, signing_key

ALGORITHM = "RS256"


class KeyedTokenBackend(TokenBackend):
    def __init__(self) -> None:
        super().__init__(
            algorithm=ALGORITHM,
            signing_key=None,
            verifying_key=None,
            audience=settings.JWT_AUDIENCE,
            issuer=settings.JWT_ISSUER,
            leeway=0,
        )

    def encode(self, payload: dict[str, Any]) -> str:
        key = signing_key()
        claims = {**payload, "aud": self.audience, "iss": self.issuer}
        return pyjwt.encode(claims, key.key, algorithm=ALGORITHM, headers={"kid": key.kid})

    def get_verifying_key(self, token: Any) -> Any:
        header = pyjwt.get_unverified_header(token)
        if header.get("alg") != ALGORITHM:
            raise TokenBackendError("Invalid algorithm specified")
        kid = header.get("kid")
        key = public_keys().get(kid) if isinstance(kid, str) else None
        if key is None:
            raise TokenBackendError("Unknown signing key")
        return key


def token_backend() -> KeyedTokenBackend:
    # Built per call: settings (issuer, audience, key dirs) can differ between tests.
    return KeyedTokenBackend()


class AccessToken(SimpleAccessToken):
    @property
    def token_backend(self) -> TokenBackend:  # type: ignore[override]
        return token_backend()


def access_token_for(*, user: User) -> AccessToken:
    token = AccessToken.for_user(user)
    token["name"] = user.name
    token["email"] = user.email
    token["roles"] = user.roles
    return token
