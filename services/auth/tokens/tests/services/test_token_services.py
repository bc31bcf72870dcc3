import pytest
from core.exceptions import EmailNotVerified, InvalidCredentials, RateLimited, TokenInvalid

from tokens.models import RefreshFamily, RefreshToken
from tokens.selectors import refresh_family_live_count, refresh_token_hash
from tokens.services import (
    refresh_families_revoke,
    token_logout,
    token_obtain,
    token_pair_issue,
    token_refresh,
)

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery-staple-42"


def test_pair_issue_stores_only_a_hash_of_the_refresh_token(make_user):
    pair = token_pair_issue(user=make_user())
    stored = RefreshToken.objects.get()
    assert stored.token_hash == refresh_token_hash(raw=pair.refresh)
    assert pair.refresh not in stored.token_hash


def test_obtain_refuses_bad_password_and_unverified(make_user):
    user = make_user(verified=False)
    with pytest.raises(InvalidCredentials):
        token_obtain(email=user.email, password="nope-nope-nope", client_ip="192.0.2.1")
    with pytest.raises(EmailNotVerified):
        token_obtain(email=user.email, password=PASSWORD, client_ip="192.0.2.1")


def test_obtain_delays_a_failing_pair_not_the_account(make_user, settings):
    settings.AUTH_LOGIN_FREE_FAILURES = 1
    user = make_user()
    with pytest.raises(InvalidCredentials):
        token_obtain(email=user.email, password="bad-bad-bad-1", client_ip="192.0.2.1")
    with pytest.raises(InvalidCredentials):  # the second failure starts a delay for this pair
        token_obtain(email=user.email, password="bad-bad-bad-1", client_ip="192.0.2.1")
    with pytest.raises(RateLimited) as caught:
        token_obtain(email=user.email, password=PASSWORD, client_ip="192.0.2.1")
    assert caught.value.headers["Retry-After"] == str(caught.value.retry_after)
    # The owner at another address is not affected.
    assert token_obtain(email=user.email, password=PASSWORD, client_ip="192.0.2.2").access


def test_refresh_keeps_the_family_and_marks_the_old_token_rotated(make_user):
    user = make_user()
    pair = token_pair_issue(user=user)
    token_refresh(refresh=pair.refresh)
    assert RefreshFamily.objects.count() == 1
    old = RefreshToken.objects.get(token_hash=refresh_token_hash(raw=pair.refresh))
    assert old.rotated_at is not None
    assert RefreshToken.objects.filter(rotated_at__isnull=True).count() == 1


def test_logout_and_revoke_all(make_user):
    user = make_user()
    first, second = token_pair_issue(user=user), token_pair_issue(user=user)
    assert refresh_family_live_count(user_id=user.id) == 2
    token_logout(refresh=first.refresh)
    assert refresh_family_live_count(user_id=user.id) == 1
    assert refresh_families_revoke(user=user, reason="test") == 1
    with pytest.raises(TokenInvalid):
        token_refresh(refresh=second.refresh)
