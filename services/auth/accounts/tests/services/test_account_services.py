import pytest
from core.exceptions import Conflict, NotFound, TokenInvalid, ValidationFailed
from django.core import mail
from outbox.models import OutboxEvent
from tokens.models import RefreshFamily
from tokens.services import token_pair_issue

from accounts.models import User
from accounts.services import (
    admin_ensure,
    user_email_verify,
    user_password_change,
    user_register,
    user_set_active,
    user_verification_resend,
)

pytestmark = pytest.mark.django_db
PASSWORD = "analytical-engine-1843"


def test_register_writes_user_and_event_in_one_transaction(contract_validate):
    user = user_register(name=" Ada ", email="ada@EXAMPLE.com", password=PASSWORD)
    assert user.name == "Ada"
    assert user.email == "ada@example.com"
    assert not user.email_verified
    event = OutboxEvent.objects.get()
    contract_validate(event.payload)
    assert event.payload["data"] == {
        "user_id": str(user.id),
        "email": "ada@example.com",
        "name": "Ada",
        "registered_at": event.payload["data"]["registered_at"],
    }
    assert event.payload["producer"] == "auth"


def test_register_conflict_leaves_no_event():
    user_register(name="Ada", email="ada@example.com", password=PASSWORD)
    with pytest.raises(Conflict):
        user_register(name="Ada 2", email="ADA@example.com", password=PASSWORD)
    assert OutboxEvent.objects.count() == 1
    assert len(mail.outbox) == 1


def test_register_refuses_weak_password():
    with pytest.raises(ValidationFailed) as caught:
        user_register(name="Ada", email="ada@example.com", password="password")
    assert "password" in caught.value.errors
    assert not User.objects.exists()


def test_register_survives_a_mail_failure(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 1
    user = user_register(name="Ada", email="ada@example.com", password=PASSWORD)
    assert User.objects.filter(id=user.id).exists()


def test_verify_is_single_use_and_resend_retires_old_links():
    from accounts.emails import verification_token_make

    user = user_register(name="Ada", email="ada@example.com", password=PASSWORD)
    first = verification_token_make(user=user)
    user_verification_resend(email="ada@example.com")
    user.refresh_from_db()
    second = verification_token_make(user=user)
    with pytest.raises(TokenInvalid):
        user_email_verify(token=first)
    assert user_email_verify(token=second).email_verified
    with pytest.raises(TokenInvalid):
        user_email_verify(token=second)


def test_password_change_revokes_sessions(make_user):
    user = make_user(password=PASSWORD)
    token_pair_issue(user=user)
    user_password_change(user=user, old_password=PASSWORD, new_password="brand-new-secret-88")
    assert not RefreshFamily.objects.filter(revoked_at__isnull=True).exists()
    with pytest.raises(ValidationFailed):
        user_password_change(user=user, old_password=PASSWORD, new_password="another-secret-99")


def test_set_active_records_events_only_on_change(make_user, contract_validate):
    user = make_user()
    token_pair_issue(user=user)
    user_set_active(user_id=user.id, is_active=False)
    user_set_active(user_id=user.id, is_active=False)
    user.refresh_from_db()
    assert not user.is_active and user.deactivated_at is not None
    assert RefreshFamily.objects.get().revoked_reason == "account-disabled"
    user_set_active(user_id=user.id, is_active=True)
    types = list(OutboxEvent.objects.order_by("created_at").values_list("event_type", flat=True))
    assert types == ["user.deactivated", "user.reactivated"]
    for event in OutboxEvent.objects.all():
        contract_validate(event.payload)


def test_set_active_unknown_and_self(make_user):
    import uuid

    with pytest.raises(NotFound):
        user_set_active(user_id=uuid.uuid4(), is_active=False)
    admin = make_user(is_staff=True)
    with pytest.raises(Conflict):
        user_set_active(user_id=admin.id, is_active=False, actor=admin)


def test_admin_ensure_is_idempotent():
    user, created = admin_ensure(email="ops@example.com", password="ops-password-123")
    assert created
    again, created_again = admin_ensure(email="OPS@example.com", password="ops-password-123")
    assert not created_again and again.id == user.id
    assert again.is_staff and again.is_superuser and again.is_active and again.email_verified
    assert again.roles == ["rider", "admin"]
    admin_ensure(email="ops@example.com", password="rotated-password-456")
    again.refresh_from_db()
    assert again.check_password("rotated-password-456")
    assert User.objects.count() == 1
    assert OutboxEvent.objects.filter(event_type="user.registered").count() == 1
