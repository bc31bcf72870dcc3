"""Stateless RS256 JWT verification against auth's public keys (no user table).

The same file in rentals and the notifier (tools/check_shared_code.py). JWT_DEACTIVATED_CHECK (an optional
setting) names a `(*, user_id, for_write) -> bool` that refuses a deactivated rider's token (rentals: its
copy of auth's user.deactivated events)."""

import functools
import time
import uuid
from dataclasses import dataclass, field

import jwt
from django.conf import settings
from django.utils.module_loading import import_string
from rest_framework import authentication, exceptions, permissions

from core.exceptions import AccountDisabled
from core.jwt_keys import public_key_for


@dataclass(frozen=True)
class TokenUser:
    id: uuid.UUID
    email: str = ""
    name: str = ""
    roles: tuple[str, ...] = field(default_factory=tuple)

    is_authenticated = True
    is_anonymous = False

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    @property
    def pk(self) -> uuid.UUID:
        return self.id


def _invalid(detail: str = "Token is invalid or expired.") -> exceptions.AuthenticationFailed:
    return exceptions.AuthenticationFailed(detail)


def decode_access_token(token: str) -> dict:
    claims = _verified_claims(token, settings.JWT_PUBLIC_KEYS_DIR, settings.JWT_AUDIENCE, settings.JWT_ISSUER)
    if claims["exp"] <= time.time() - settings.JWT_LEEWAY_SECONDS:
        raise _invalid("Token has expired.")
    return dict(claims)


@functools.lru_cache(maxsize=4096)
def _verified_claims(token: str, keys_dir: str | None, audience: str, issuer: str) -> dict:
    """Everything but the expiry, checked once per distinct token: a rider sends the same access token
    for its whole lifetime, and the RS256 check is most of the cost of authenticating a request.
    Only tokens that pass are kept (failures raise); the caller checks `exp` on every use. A key taken
    out of the directory is noticed when the key set is next reloaded (an unknown kid) either way."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise _invalid("Malformed token.")
    if header.get("alg") != "RS256":
        raise _invalid("Unsupported token algorithm.")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise _invalid("Token has no key id.")
    key = public_key_for(kid)
    if key is None:
        raise _invalid("Unknown signing key.")
    try:
        claims = jwt.decode(
            token,
            key=key,
            algorithms=["RS256"],
            audience=audience,
            issuer=issuer,
            options={"require": ["exp", "iss", "aud", "sub"], "verify_exp": False},
        )
    except jwt.PyJWTError:
        raise _invalid()
    exp = claims["exp"]
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        raise _invalid()
    if claims.get("token_type", "access") != "access":
        raise _invalid("Not an access token.")
    return claims


def reset_token_cache() -> None:
    _verified_claims.cache_clear()


def user_from_claims(claims: dict) -> TokenUser:
    try:
        user_id = uuid.UUID(str(claims["sub"]))
    except (KeyError, ValueError):
        raise _invalid("Token subject is not a user id.")
    roles = claims.get("roles") or []
    if not isinstance(roles, list):
        raise _invalid("Token roles are malformed.")
    return TokenUser(
        id=user_id,
        email=str(claims.get("email") or ""),
        name=str(claims.get("name") or ""),
        roles=tuple(str(role) for role in roles),
    )


class JWTAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header:
            return None
        if header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise _invalid("Authorization header must be 'Bearer <token>'.")
        try:
            token = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise _invalid("Malformed token.")
        claims = decode_access_token(token)
        user = user_from_claims(claims)
        check = getattr(settings, "JWT_DEACTIVATED_CHECK", None)
        # Imported on use: the app that holds the check may itself import core.
        if check and import_string(check)(
            user_id=user.id, for_write=request.method not in permissions.SAFE_METHODS
        ):
            raise AccountDisabled("This account has been deactivated.")
        return user, claims

    def authenticate_header(self, request):
        return 'Bearer realm="velo"'
