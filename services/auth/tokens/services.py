"""Login, access tokens and refresh-token rotation with family reuse detection (RFC 9700 §4.14)."""

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from accounts.models import User
from accounts.selectors import email_normalize, user_get_by_email
from core.exceptions import (
    AccountDisabled,
    EmailNotVerified,
    InvalidCredentials,
    RateLimited,
    TokenInvalid,
)
from core.ratelimit import (
    Reservation,
    ThrottlePolicy,
    rate_limit_refund,
    rate_limit_reserve,
    throttle_claim,
    throttle_clear,
)
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction

from tokens.jwt import AccessToken, access_token_for
from tokens.models import RefreshFamily, RefreshToken
from tokens.selectors import refresh_token_get, refresh_token_hash

logger = logging.getLogger(__name__)

REVOKED_REUSE = "reuse-detected"
REVOKED_LOGOUT = "logout"
REVOKED_PASSWORD = "password-changed"
REVOKED_PASSWORD_RESET = "password-reset"
REVOKED_DISABLED = "account-disabled"


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str
    expires_in: int
    token_type: str = "Bearer"


def _now() -> datetime:
    return datetime.now(tz=UTC)


def _refresh_token_create(*, family: RefreshFamily) -> str:
    raw = secrets.token_urlsafe(48)
    RefreshToken.objects.create(
        family=family,
        token_hash=refresh_token_hash(raw=raw),
        expires_at=_now() + timedelta(seconds=settings.JWT_REFRESH_TTL_SECONDS),
    )
    return raw


def _pair(*, user: User, refresh: str) -> TokenPair:
    access = access_token_for(user=user)
    return TokenPair(
        access=str(access), refresh=refresh, expires_in=int(AccessToken.lifetime.total_seconds())
    )


@transaction.atomic
def token_pair_issue(*, user: User) -> TokenPair:
    """Start a new refresh family (a session) for the user."""
    family = RefreshFamily.objects.create(user=user)
    return _pair(user=user, refresh=_refresh_token_create(family=family))


def login_throttle_policy() -> ThrottlePolicy:
    return ThrottlePolicy(
        free_failures=settings.AUTH_LOGIN_FREE_FAILURES,
        base_delay_seconds=settings.AUTH_LOGIN_DELAY_BASE_SECONDS,
        max_delay_seconds=settings.AUTH_LOGIN_DELAY_MAX_SECONDS,
        reset_after_seconds=settings.AUTH_LOGIN_FAILURE_RESET_SECONDS,
    )


@dataclass(frozen=True)
class LoginAttempt:
    ip_slot: Reservation
    pair_key: str


def login_attempt_begin(*, email: str, client_ip: str) -> LoginAttempt:
    """Claim one password check for (email, client address); raises RateLimited (with Retry-After).

    The address's ceiling over all emails is reserved first; the (email, address) pair then gets a
    growing delay after its free failures. Nothing is keyed by the email alone: an attacker elsewhere
    cannot make the owner wait. A refused pair gives the address's slot back (no password was tried).
    """
    ip_slot = rate_limit_reserve(
        scope="login-ip",
        key=client_ip,
        limit=settings.AUTH_LOGIN_RATE_PER_IP,
        window_seconds=settings.AUTH_LOGIN_RATE_WINDOW_SECONDS,
    )
    pair_key = f"{email_normalize(email=email)}|{client_ip}"
    try:
        throttle_claim(scope="login-pair", key=pair_key, policy=login_throttle_policy())
    except RateLimited:
        rate_limit_refund(reservation=ip_slot)
        raise
    return LoginAttempt(ip_slot=ip_slot, pair_key=pair_key)


def login_attempt_succeeded(*, attempt: LoginAttempt) -> None:
    """The password was right: the attempt does not count, and the pair's failures are forgotten."""
    rate_limit_refund(reservation=attempt.ip_slot)
    throttle_clear(scope="login-pair", key=attempt.pair_key)


def token_obtain(*, email: str, password: str, client_ip: str) -> TokenPair:
    """Password login, throttled per (email, client address) and per address (login_attempt_begin)."""
    attempt = login_attempt_begin(email=email, client_ip=client_ip)
    user = user_get_by_email(email=email)
    if user is None:
        make_password(password)  # same cost as a real check: no account enumeration by timing
        raise InvalidCredentials()
    if not user.check_password(password):
        raise InvalidCredentials()
    login_attempt_succeeded(attempt=attempt)
    if not user.is_active:
        raise AccountDisabled()
    if settings.AUTH_REQUIRE_EMAIL_VERIFICATION and not user.email_verified:
        raise EmailNotVerified()
    return token_pair_issue(user=user)


def token_refresh(*, refresh: str) -> TokenPair:
    """Rotate a refresh token. The family row lock serialises concurrent refreshes of one session."""
    found = refresh_token_get(raw=refresh)
    if found is None:
        raise TokenInvalid("The refresh token is invalid.")
    failure: Exception | None = None
    pair: TokenPair | None = None
    with transaction.atomic():
        family = RefreshFamily.objects.select_for_update().select_related("user").get(id=found.family_id)
        token = RefreshToken.objects.get(id=found.id)  # re-read under the lock
        now = _now()
        if family.is_revoked:
            failure = TokenInvalid("The refresh token has been revoked.")
        elif token.rotated_at is not None:
            family.revoked_at, family.revoked_reason = now, REVOKED_REUSE
            family.save(update_fields=["revoked_at", "revoked_reason"])
            logger.warning(
                "refresh token reuse detected; family revoked",
                extra={"family_id": str(family.id), "user_id": str(family.user_id)},
            )
            failure = TokenInvalid("The refresh token was already used; the session has been revoked.")
        elif token.expires_at <= now:
            failure = TokenInvalid("The refresh token has expired.")
        elif not family.user.is_active:
            family.revoked_at, family.revoked_reason = now, REVOKED_DISABLED
            family.save(update_fields=["revoked_at", "revoked_reason"])
            failure = AccountDisabled(status=401)
        else:
            token.rotated_at = now
            token.save(update_fields=["rotated_at"])
            pair = _pair(user=family.user, refresh=_refresh_token_create(family=family))
    # Raised after commit so that a revocation above is kept.
    if failure is not None:
        raise failure
    assert pair is not None
    return pair


@transaction.atomic
def token_logout(*, refresh: str) -> None:
    """Kill the session (the whole family) the refresh token belongs to. Idempotent."""
    found = refresh_token_get(raw=refresh)
    if found is None:
        raise TokenInvalid("The refresh token is invalid.")
    RefreshFamily.objects.filter(id=found.family_id, revoked_at__isnull=True).update(
        revoked_at=_now(), revoked_reason=REVOKED_LOGOUT
    )


def refresh_families_revoke(*, user: User, reason: str) -> int:
    return RefreshFamily.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=_now(), revoked_reason=reason
    )
