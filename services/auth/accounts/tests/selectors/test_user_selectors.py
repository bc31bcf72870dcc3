import pytest

from accounts.selectors import user_get, user_get_by_email, user_list

pytestmark = pytest.mark.django_db


def test_get_by_email_is_case_insensitive(make_user):
    user = make_user(email="Mixed.Case@Example.com")
    assert user_get_by_email(email=" mixed.case@example.COM ") == user
    assert user_get_by_email(email="other@example.com") is None


def test_get_tolerates_bad_ids(make_user):
    user = make_user()
    assert user_get(user_id=user.id) == user
    assert user_get(user_id="not-a-uuid") is None


def test_list_filters_and_orders_newest_first(make_user):
    first = make_user(email="first@example.com")
    second = make_user(email="second@example.com")
    make_user(email="third@example.org")
    assert list(user_list(email="EXAMPLE.COM")) == [second, first]
    assert user_list().count() == 3
