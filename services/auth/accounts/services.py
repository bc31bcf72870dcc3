"""Account writes. Each state change and its outbox event share one transaction."""

import logging
import uuid
from datetime import UTC, datetime

from core.exceptions import Conflict, NotFound, RateLimited, TokenInvalid, ValidationFailed
from core.ratelimit import rate_limit_refund, rate_limit_reserve
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from outbox.services import outbox_emit, rfc3339
from tokens.services import (
    REVOKED_DISABLED,
    REVOKED_PASSWORD,
    REVOKED_PASSWORD_RESET,
    refresh_families_revoke,
)

from accounts.emails import (
    password_reset_email_send,
    password_reset_token_matches,
    password_reset_token_read,
    register_attempt_email_send,
    verification_email_send,
    verification_token_read,
)
from accounts.models import User, new_verification_nonce
from accounts.selectors import email_normalize, user_get_by_email

logger = logging.getLogger(__name__)

EVENT_USER_REGISTERED = "user.registered"
EVENT_USER_DEACTIVATED = "user.deactivated"
EVENT_USER_REACTIVATED = "user.reactivated"
EVENT_USER_PASSWORD_RESET = "user.password_reset"


def _now() -> datetime:
    return datetime.now(tz=UTC)


def _password_check(*, password: str, user: User, field: str = "password") -> None:
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise ValidationFailed(errors={field: list(exc.messages)}) from exc


def _address_limit(*, scope: str, client_ip: str, limit: int):
    """Count one request of a client address (429 with Retry-After beyond `limit` per window)."""
    return rate_limit_reserve(
        scope=scope, key=client_ip, limit=limit, window_seconds=settings.AUTH_ADDRESS_RATE_WINDOW_SECONDS
    )


def _account_mail_allowed(*, scope: str, email: str) -> bool:
    """Whether another mail of this kind may go to the address in this window. Silent beyond the limit:
    the answer must look the same whether the address has an account or not."""
    try:
        rate_limit_reserve(
            scope=scope,
            key=email_normalize(email=email),
            limit=settings.AUTH_ACCOUNT_MAIL_RATE_PER_ACCOUNT,
            window_seconds=settings.AUTH_LOGIN_RATE_WINDOW_SECONDS,
        )
    except RateLimited:
        return False
    return True


def user_register(*, name: str, email: str, password: str, client_ip: str) -> User:
    """Create an unverified account, record `user.registered`, then mail the confirmation link.

    An address that already has an account gets the same answer (an unsaved User of the same shape:
    a fresh id that belongs to no account) after the same work, and its owner a mail saying someone
    tried; nothing else changes. So the answer never tells whether an address is registered.
    """
    _address_limit(scope="register-ip", client_ip=client_ip, limit=settings.AUTH_REGISTER_RATE_PER_IP)
    user = User(email=User.objects.normalize_email(email.strip()), name=name.strip())
    _password_check(password=password, user=user)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save(force_insert=True)
            outbox_emit(
                event_type=EVENT_USER_REGISTERED,
                occurred_at=user.date_joined,
                data={
                    "user_id": str(user.id),
                    "email": user.email,
                    "name": user.name,
                    "registered_at": rfc3339(user.date_joined),
                },
            )
    except IntegrityError:
        # The case-insensitive unique constraint decides, not a prior lookup (no check-then-act).
        owner = user_get_by_email(email=user.email)
        if owner is not None and _account_mail_allowed(scope="register-notice", email=owner.email):
            register_attempt_email_send(user=owner)
        logger.info("register attempt for an existing address")
        return user
    verification_email_send(user=user)
    return user


def user_email_verify(*, token: str) -> User:
    """Confirm the address. The link carries a nonce that is rotated on use, so it works once."""
    try:
        payload = verification_token_read(token=token)
    except signing.SignatureExpired as exc:
        raise TokenInvalid("The confirmation link has expired; ask for a new one.", status=400) from exc
    except signing.BadSignature as exc:
        raise TokenInvalid("The confirmation link is invalid.", status=400) from exc
    with transaction.atomic():
        try:
            user = User.objects.select_for_update().filter(id=uuid.UUID(payload["u"])).first()
        except ValueError:
            user = None
        if user is None or user.email_verification_nonce != payload["n"]:
            raise TokenInvalid("The confirmation link is invalid or was already used.", status=400)
        user.email_verified = True
        user.email_verified_at = _now()
        user.email_verification_nonce = new_verification_nonce()
        user.save(update_fields=["email_verified", "email_verified_at", "email_verification_nonce"])
    return user


def user_verification_resend(*, email: str, client_ip: str) -> None:
    """Send a fresh link (older links stop working). Silent for unknown or verified addresses."""
    _address_limit(scope="verify-resend-ip", client_ip=client_ip, limit=settings.AUTH_RESEND_RATE_PER_IP)
    rate_limit_reserve(
        scope="verify-resend",
        key=email_normalize(email=email),
        limit=settings.AUTH_RESEND_RATE_PER_ACCOUNT,
        window_seconds=settings.AUTH_LOGIN_RATE_WINDOW_SECONDS,
    )
    with transaction.atomic():
        user = user_get_by_email(email=email)
        if user is None or user.email_verified or not user.is_active:
            return
        user = User.objects.select_for_update().get(id=user.id)
        user.email_verification_nonce = new_verification_nonce()
        user.save(update_fields=["email_verification_nonce"])
    verification_email_send(user=user)


def user_password_reset_request(*, email: str, client_ip: str) -> None:
    """Mail a single-use reset link to an active account. Unknown and disabled addresses get no mail
    but the same work and answer: the mail leaves in the background either way (accounts.emails)."""
    _address_limit(scope="reset-ip", client_ip=client_ip, limit=settings.AUTH_RESET_RATE_PER_IP)
    allowed = _account_mail_allowed(scope="reset-mail", email=email)
    user = user_get_by_email(email=email)
    if user is None or not user.is_active or not allowed:
        return
    password_reset_email_send(user=user)


def user_password_reset_confirm(*, token: str, new_password: str) -> User:
    """Set the password from a reset link: ends every session, confirms the address (the link came to
    it), records `user.password_reset`. A used, expired or altered link changes nothing."""
    try:
        payload = password_reset_token_read(token=token)
    except signing.SignatureExpired as exc:
        raise TokenInvalid("The reset link has expired; ask for a new one.", status=400) from exc
    except signing.BadSignature as exc:
        raise TokenInvalid("The reset link is invalid.", status=400) from exc
    with transaction.atomic():
        try:
            user = User.objects.select_for_update().filter(id=uuid.UUID(payload["u"])).first()
        except ValueError:
            user = None
        if user is None or not user.is_active or not password_reset_token_matches(user=user, payload=payload):
            raise TokenInvalid("The reset link is invalid or was already used.", status=400)
        _password_check(password=new_password, user=user, field="new_password")
        now = _now()
        user.set_password(new_password)
        fields = ["password"]
        if not user.email_verified:
            user.email_verified, user.email_verified_at = True, now
            fields += ["email_verified", "email_verified_at"]
        user.save(update_fields=fields)
        refresh_families_revoke(user=user, reason=REVOKED_PASSWORD_RESET)
        outbox_emit(
            event_type=EVENT_USER_PASSWORD_RESET,
            occurred_at=now,
            data={"user_id": str(user.id), "reset_at": rfc3339(now)},
        )
    logger.info("password reset", extra={"user_id": str(user.id)})
    return user


@transaction.atomic
def user_profile_update(*, user: User, name: str) -> User:
    user.name = name.strip()
    user.save(update_fields=["name"])
    return user


def user_password_change(*, user: User, old_password: str, new_password: str, client_ip: str) -> None:
    """Change the password and end every session (refresh family) of the user.

    Wrong current passwords are limited per client address and per user (a stolen access token does
    not give unlimited guesses); a change that succeeds gives its attempts back.
    """
    ip_slot = _address_limit(
        scope="password-change-ip", client_ip=client_ip, limit=settings.AUTH_PASSWORD_CHANGE_RATE_PER_IP
    )
    try:
        user_slot = rate_limit_reserve(
            scope="password-change-user",
            key=str(user.id),
            limit=settings.AUTH_PASSWORD_CHANGE_RATE_PER_ACCOUNT,
            window_seconds=settings.AUTH_LOGIN_RATE_WINDOW_SECONDS,
        )
    except RateLimited:
        rate_limit_refund(reservation=ip_slot)  # no password was tried
        raise
    if not user.check_password(old_password):
        raise ValidationFailed(errors={"old_password": ["The current password is wrong."]})
    rate_limit_refund(reservation=ip_slot)
    rate_limit_refund(reservation=user_slot)
    _password_check(password=new_password, user=user, field="new_password")
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        refresh_families_revoke(user=user, reason=REVOKED_PASSWORD)


def user_set_active(*, user_id: uuid.UUID, is_active: bool, actor: User | None = None) -> User:
    """Disable or re-enable an account; a change records user.deactivated / user.reactivated."""
    with transaction.atomic():
        user = User.objects.select_for_update().filter(id=user_id).first()
        if user is None:
            raise NotFound("No such user.")
        if actor is not None and actor.pk == user.pk and not is_active:
            raise Conflict("Operators cannot disable their own account.")
        if user.is_active == is_active:
            return user
        now = _now()
        user.is_active = is_active
        user.deactivated_at = None if is_active else now
        user.save(update_fields=["is_active", "deactivated_at"])
        if is_active:
            outbox_emit(
                event_type=EVENT_USER_REACTIVATED,
                occurred_at=now,
                data={"user_id": str(user.id), "reactivated_at": rfc3339(now)},
            )
        else:
            refresh_families_revoke(user=user, reason=REVOKED_DISABLED)
            outbox_emit(
                event_type=EVENT_USER_DEACTIVATED,
                occurred_at=now,
                data={"user_id": str(user.id), "deactivated_at": rfc3339(now)},
            )
    logger.info("account active flag changed", extra={"user_id": str(user.id), "is_active": is_active})
    return user


def admin_ensure(*, email: str, password: str | None, name: str = "Administrator") -> tuple[User, bool]:
    """Create the operator account once: verified, active, staff and superuser, with `password` (or
    an unusable one: set it through a password reset). An existing account is left exactly as it is:
    an operator may have disabled, demoted or re-keyed it, and every migrate job runs this."""
    user = User(
        email=User.objects.normalize_email(email.strip()),
        name=name,
        is_staff=True,
        is_superuser=True,
        email_verified=True,
        email_verified_at=_now(),
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save(force_insert=True)
            outbox_emit(
                event_type=EVENT_USER_REGISTERED,
                occurred_at=user.date_joined,
                data={
                    "user_id": str(user.id),
                    "email": user.email,
                    "name": user.name,
                    "registered_at": rfc3339(user.date_joined),
                },
            )
    except IntegrityError:
        existing = user_get_by_email(email=email)
        if existing is None:
            raise
        return existing, False
    return user, True
