import re

import pytest
from core.exceptions import RateLimited, TokenInvalid, ValidationFailed
from django.core import mail, signing
from outbox.models import OutboxEvent
from tokens.models import RefreshFamily
from tokens.services import token_pair_issue

from accounts.emails import RESET_SALT, password_reset_token_make
from accounts.services import user_password_reset_confirm, user_password_reset_request

pytestmark = pytest.mark.django_db
IP = "192.0.2.20"
NEW = "a-brand-new-secret-2026"


def _mailed_token() -> str:
    match = re.search(r"/api/auth/password/reset/confirm\?token=(\S+)", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    from urllib.parse import unquote

    return unquote(match.group(1))


def test_request_mails_a_link_for_an_active_account(make_user):
    user = make_user()
    user_password_reset_request(email=user.email.upper(), client_ip=IP)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email]
    assert mail.outbox[0].subject == "Reset your Velo password"
    assert "http://gateway.test/api/auth/password/reset/confirm?token=" in mail.outbox[0].body


@pytest.mark.parametrize("kind", ["unknown", "disabled"])
def test_request_sends_nothing_for_unknown_or_disabled_addresses(make_user, kind):
    email = "ghost@example.com" if kind == "unknown" else make_user(is_active=False).email
    user_password_reset_request(email=email, client_ip=IP)
    assert mail.outbox == []


def test_request_mails_per_address_are_limited_silently(make_user, settings):
    settings.AUTH_ACCOUNT_MAIL_RATE_PER_ACCOUNT = 2
    user = make_user()
    for _ in range(4):
        user_password_reset_request(email=user.email, client_ip=f"192.0.2.{len(mail.outbox) + 30}")
    assert len(mail.outbox) == 2


def test_request_is_limited_per_client_address(settings):
    settings.AUTH_RESET_RATE_PER_IP = 2
    for n in range(2):
        user_password_reset_request(email=f"a{n}@example.com", client_ip=IP)
    with pytest.raises(RateLimited) as caught:
        user_password_reset_request(email="a9@example.com", client_ip=IP)
    assert int(caught.value.headers["Retry-After"]) >= 1


def test_confirm_sets_the_password_revokes_sessions_and_records_the_event(make_user, contract_validate):
    user = make_user(verified=False)
    token_pair_issue(user=user)
    token_pair_issue(user=user)
    user_password_reset_request(email=user.email, client_ip=IP)
    user_password_reset_confirm(token=_mailed_token(), new_password=NEW)
    user.refresh_from_db()
    assert user.check_password(NEW)
    assert user.email_verified  # the link came to the mailbox
    assert set(RefreshFamily.objects.values_list("revoked_reason", flat=True)) == {"password-reset"}
    event = OutboxEvent.objects.get(event_type="user.password_reset")
    contract_validate(event.payload)
    assert event.payload["data"]["user_id"] == str(user.id)


def test_a_link_works_once(make_user):
    user = make_user()
    token = password_reset_token_make(user=user)
    user_password_reset_confirm(token=token, new_password=NEW)
    with pytest.raises(TokenInvalid) as caught:
        user_password_reset_confirm(token=token, new_password="yet-another-secret-77")
    assert caught.value.status == 400
    user.refresh_from_db()
    assert user.check_password(NEW)


def test_a_password_change_retires_older_links(make_user):
    user = make_user()
    token = password_reset_token_make(user=user)
    user.set_password("changed-meanwhile-123")
    user.save()
    with pytest.raises(TokenInvalid):
        user_password_reset_confirm(token=token, new_password=NEW)


def test_an_expired_link_is_refused(make_user, settings):
    user = make_user()
    token = password_reset_token_make(user=user)
    with pytest.MonkeyPatch.context() as patch:
        real_time = signing.time.time
        patch.setattr(signing.time, "time", lambda: real_time() + 3601)
        with pytest.raises(TokenInvalid, match="expired"):
            user_password_reset_confirm(token=token, new_password=NEW)


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "",
        signing.dumps({"u": "not-a-uuid", "p": "x"}, salt=RESET_SALT),
        signing.dumps({"u": "7d1c6f3e-5d0a-4a39-9b7e-1f2a3b4c5d6e", "p": "x"}, salt=RESET_SALT),
        signing.dumps(["u", "p"], salt=RESET_SALT),
        signing.dumps({"u": 1, "p": 2}, salt=RESET_SALT),
        signing.dumps({"u": "x", "n": "y"}, salt="velo.accounts.email-verification"),
    ],
)
def test_tampered_or_foreign_tokens_are_refused(make_user, token):
    make_user()
    with pytest.raises(TokenInvalid):
        user_password_reset_confirm(token=token, new_password=NEW)
    assert not OutboxEvent.objects.exists()


def test_a_tampered_signature_is_refused(make_user):
    user = make_user()
    token = password_reset_token_make(user=user)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    with pytest.raises(TokenInvalid):
        user_password_reset_confirm(token=tampered, new_password=NEW)


def test_validators_apply_and_a_refused_password_keeps_the_link(make_user):
    user = make_user()
    token = password_reset_token_make(user=user)
    with pytest.raises(ValidationFailed) as caught:
        user_password_reset_confirm(token=token, new_password="12345")
    assert "new_password" in caught.value.errors
    user_password_reset_confirm(token=token, new_password=NEW)


def test_a_disabled_account_cannot_reset(make_user):
    user = make_user(is_active=False)
    with pytest.raises(TokenInvalid):
        user_password_reset_confirm(token=password_reset_token_make(user=user), new_password=NEW)
