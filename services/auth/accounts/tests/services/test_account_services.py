import pytest
from core.exceptions import Conflict, NotFound, RateLimited, TokenInvalid, ValidationFailed
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
IP = "192.0.2.10"


def test_register_writes_user_and_event_in_one_transaction(contract_validate):
    user = user_register(name=" Ada ", email="ada@EXAMPLE.com", password=PASSWORD, client_ip=IP)
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


def test_register_of_an_existing_address_answers_alike_and_mails_the_owner():
    owner = user_register(name="Ada", email="ada@example.com", password=PASSWORD, client_ip=IP)
    again = user_register(name="Ada 2", email="ADA@example.com", password=PASSWORD, client_ip=IP)
    assert again.id != owner.id and again.pk is not None and not again.email_verified
    assert not User.objects.filter(id=again.id).exists()
    assert OutboxEvent.objects.count() == 1
    assert [m.subject for m in mail.outbox] == [
        "Confirm your Velo account",
        "Someone tried to register with your address",
    ]
    assert mail.outbox[1].to == ["ada@example.com"]
    owner.refresh_from_db()
    assert owner.name == "Ada" and owner.check_password(PASSWORD)


def test_register_notices_to_one_owner_are_limited(settings):
    settings.AUTH_ACCOUNT_MAIL_RATE_PER_ACCOUNT = 2
    user_register(name="Ada", email="ada@example.com", password=PASSWORD, client_ip=IP)
    for _ in range(4):
        user_register(name="Ada", email="ada@example.com", password=PASSWORD, client_ip=IP)
    assert len(mail.outbox) == 1 + 2


def test_register_is_limited_per_client_address(settings):
    settings.AUTH_REGISTER_RATE_PER_IP = 2
    for n in range(2):
        user_register(name="Ada", email=f"ada{n}@example.com", password=PASSWORD, client_ip=IP)
    with pytest.raises(RateLimited):
        user_register(name="Ada", email="ada9@example.com", password=PASSWORD, client_ip=IP)
    user_register(name="Ada", email="ada9@example.com", password=PASSWORD, client_ip="192.0.2.11")
    assert User.objects.count() == 3


def test_register_refuses_weak_password():
    with pytest.raises(ValidationFailed) as caught:
        user_register(name="Ada", email="ada@example.com", password="password", client_ip=IP)
    assert "password" in caught.value.errors
    assert not User.objects.exists()


def test_register_survives_a_mail_failure(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 1
    user = user_register(name="Ada", email="ada@example.com", password=PASSWORD, client_ip=IP)
    assert User.objects.filter(id=user.id).exists()


def test_verify_is_single_use_and_resend_retires_old_links():
    from accounts.emails import verification_token_make

    user = user_register(name="Ada", email="ada@example.com", password=PASSWORD, client_ip=IP)
    first = verification_token_make(user=user)
    user_verification_resend(email="ada@example.com", client_ip=IP)
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
    user_password_change(user=user, old_password=PASSWORD, new_password="brand-new-secret-88", client_ip=IP)
    assert not RefreshFamily.objects.filter(revoked_at__isnull=True).exists()
    with pytest.raises(ValidationFailed):
        user_password_change(user=user, old_password=PASSWORD, new_password="another-secret-99", client_ip=IP)


def test_password_change_attempts_are_limited_per_user_and_address(make_user, settings):
    settings.AUTH_PASSWORD_CHANGE_RATE_PER_ACCOUNT = 2
    settings.AUTH_PASSWORD_CHANGE_RATE_PER_IP = 3
    user, other = make_user(password=PASSWORD), make_user(password=PASSWORD)
    for _ in range(2):
        with pytest.raises(ValidationFailed):
            user_password_change(user=user, old_password="wrong-guess-1", new_password="x" * 12, client_ip=IP)
    with pytest.raises(RateLimited):  # even the right one: guessing through a stolen token stops here
        user_password_change(
            user=user, old_password=PASSWORD, new_password="brand-new-secret-88", client_ip=IP
        )
    with pytest.raises(ValidationFailed):
        user_password_change(user=other, old_password="wrong-guess-1", new_password="x" * 12, client_ip=IP)
    with pytest.raises(RateLimited):  # the address's 4th failure, on another account
        user_password_change(
            user=other, old_password=PASSWORD, new_password="brand-new-secret-88", client_ip=IP
        )
    user_password_change(
        user=other, old_password=PASSWORD, new_password="brand-new-secret-88", client_ip="192.0.2.99"
    )


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


def test_admin_ensure_creates_once_and_never_changes_an_existing_account():
    user, created = admin_ensure(email="ops@example.com", password="ops-password-123")
    assert created
    assert user.is_staff and user.is_superuser and user.is_active and user.email_verified
    assert user.roles == ["rider", "admin"]
    # An operator disables and demotes it, and changes its password.
    User.objects.filter(id=user.id).update(is_active=False, is_staff=False, is_superuser=False)
    again, created_again = admin_ensure(email="OPS@example.com", password="rotated-password-456")
    assert not created_again and again.id == user.id
    again.refresh_from_db()
    assert not again.is_active and not again.is_staff and not again.is_superuser
    assert again.check_password("ops-password-123")
    assert User.objects.count() == 1
    assert list(OutboxEvent.objects.values_list("event_type", flat=True)) == ["user.registered"]


def test_admin_ensure_without_a_password_creates_an_unusable_one():
    user, created = admin_ensure(email="ops@example.com", password=None)
    assert created and not user.has_usable_password()
