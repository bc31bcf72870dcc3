"""Account writes. Each state change and its outbox event share one transaction."""

import logging
import uuid
from datetime import UTC, datetime

from core.exceptions import Conflict, NotFound, TokenInvalid, ValidationFailed
from core.ratelimit import rate_limit_reserve
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from outbox.services import outbox_event_record, rfc3339
from tokens.services import REVOKED_DISABLED, REVOKED_PASSWORD, refresh_families_revoke

from accounts.emails import verification_email_send, verification_token_read
from accounts.models import User, new_verification_nonce
from accounts.selectors import email_normalize, user_get_by_email

logger = logging.getLogger(__name__)

EVENT_USER_REGISTERED = "user.registered"
EVENT_USER_DEACTIVATED = "user.deactivated"
EVENT_USER_REACTIVATED = "user.reactivated"


def _now() -> datetime:
    return datetime.now(tz=UTC)


def _password_check(*, password: str, user: User, field: str = "password") -> None:
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise ValidationFailed(errors={field: list(exc.messages)}) from exc


def user_register(*, name: str, email: str, password: str) -> User:
    """Create an unverified account, record `user.registered`, then mail the confirmation link."""
    user = User(email=User.objects.normalize_email(email.strip()), name=name.strip())
    _password_check(password=password, user=user)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save(force_insert=True)
            outbox_event_record(
                event_type=EVENT_USER_REGISTERED,
                occurred_at=user.date_joined,
                data={
                    "user_id": str(user.id),
                    "email": user.email,
                    "name": user.name,
                    "registered_at": rfc3339(user.date_joined),
                },
            )
    except IntegrityError as exc:
        # The case-insensitive unique constraint decides, not a prior lookup (no check-then-act).
        raise Conflict("An account cannot be created with this email address.") from exc
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


def user_verification_resend(*, email: str) -> None:
    """Send a fresh link (older links stop working). Silent for unknown or verified addresses."""
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


@transaction.atomic
def user_profile_update(*, user: User, name: str) -> User:
    user.name = name.strip()
    user.save(update_fields=["name"])
    return user


@transaction.atomic
def user_password_change(*, user: User, old_password: str, new_password: str) -> None:
    """Change the password and end every session (refresh family) of the user."""
    if not user.check_password(old_password):
        raise ValidationFailed(errors={"old_password": ["The current password is wrong."]})
    _password_check(password=new_password, user=user, field="new_password")
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
            outbox_event_record(
                event_type=EVENT_USER_REACTIVATED,
                occurred_at=now,
                data={"user_id": str(user.id), "reactivated_at": rfc3339(now)},
            )
        else:
            refresh_families_revoke(user=user, reason=REVOKED_DISABLED)
            outbox_event_record(
                event_type=EVENT_USER_DEACTIVATED,
                occurred_at=now,
                data={"user_id": str(user.id), "deactivated_at": rfc3339(now)},
            )
    logger.info("account active flag changed", extra={"user_id": str(user.id), "is_active": is_active})
    return user


def admin_ensure(*, email: str, password: str, name: str = "Administrator") -> tuple[User, bool]:
    """Create or update the operator account: verified, active, staff and superuser. Idempotent."""
    with transaction.atomic():
        existing = user_get_by_email(email=email)
        if existing is not None:
            user = User.objects.select_for_update().get(id=existing.id)
            created = False
        else:
            user = User(email=User.objects.normalize_email(email.strip()), name=name)
            created = True
        was_active = user.is_active or created
        user.is_active = True
        user.deactivated_at = None
        user.is_staff = True
        user.is_superuser = True
        if not user.email_verified:
            user.email_verified = True
            user.email_verified_at = _now()
        if created or not user.check_password(password):
            user.set_password(password)
        user.save()
        if created:
            outbox_event_record(
                event_type=EVENT_USER_REGISTERED,
                occurred_at=user.date_joined,
                data={
                    "user_id": str(user.id),
                    "email": user.email,
                    "name": user.name,
                    "registered_at": rfc3339(user.date_joined),
                },
            )
        elif not was_active:
            now = _now()
            outbox_event_record(
                event_type=EVENT_USER_REACTIVATED,
                occurred_at=now,
                data={"user_id": str(user.id), "reactivated_at": rfc3339(now)},
            )
    return user, created
