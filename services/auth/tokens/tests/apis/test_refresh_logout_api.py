import pytest
from core.testing import assert_problem

from tokens.models import RefreshFamily

pytestmark = pytest.mark.django_db

REFRESH = "/api/auth/token/refresh"
LOGOUT = "/api/auth/logout"


def test_refresh_rotates_the_pair(api_client, make_user, login):
    user = make_user()
    first = login(user)
    response = api_client.post(REFRESH, {"refresh": first["refresh"]}, format="json")
    assert response.status_code == 200, response.content
    second = response.json()
    assert second["refresh"] != first["refresh"]
    assert second["access"] != first["access"]
    assert second["token_type"] == "Bearer"
    # the new refresh token works
    assert api_client.post(REFRESH, {"refresh": second["refresh"]}, format="json").status_code == 200


def test_reusing_a_rotated_refresh_token_revokes_the_family(api_client, make_user, login):
    user = make_user()
    first = login(user)
    second = api_client.post(REFRESH, {"refresh": first["refresh"]}, format="json").json()

    assert_problem(
        api_client.post(REFRESH, {"refresh": first["refresh"]}, format="json"), 401, "token-invalid"
    )
    # the thief's replay killed the legitimate holder's newer token too (RFC 9700 §4.14)
    assert_problem(
        api_client.post(REFRESH, {"refresh": second["refresh"]}, format="json"), 401, "token-invalid"
    )
    family = RefreshFamily.objects.get(user=user)
    assert family.revoked_reason == "reuse-detected"


def test_unknown_refresh_token_is_401(api_client, db):
    assert_problem(api_client.post(REFRESH, {"refresh": "garbage"}, format="json"), 401, "token-invalid")


def test_an_access_token_is_not_a_refresh_token(api_client, make_user, login):
    pair = login(make_user())
    assert_problem(
        api_client.post(REFRESH, {"refresh": pair["access"]}, format="json"), 400, "validation-error"
    )


def test_expired_refresh_token_is_401(api_client, make_user, login, settings):
    settings.JWT_REFRESH_TTL_SECONDS = -1
    pair = login(make_user())
    assert_problem(
        api_client.post(REFRESH, {"refresh": pair["refresh"]}, format="json"), 401, "token-invalid"
    )


def test_disabled_user_cannot_refresh(api_client, make_user, login):
    user = make_user()
    pair = login(user)
    user.is_active = False
    user.save()
    assert_problem(
        api_client.post(REFRESH, {"refresh": pair["refresh"]}, format="json"), 401, "account-disabled"
    )
    assert RefreshFamily.objects.get(user=user).revoked_reason == "account-disabled"


def test_logout_kills_the_family(api_client, make_user, login):
    user = make_user()
    pair = login(user)
    other_session = login(user)
    rotated = api_client.post(REFRESH, {"refresh": pair["refresh"]}, format="json").json()

    response = api_client.post(LOGOUT, {"refresh": rotated["refresh"]}, format="json")
    assert response.status_code == 204
    assert response.content == b""
    assert_problem(
        api_client.post(REFRESH, {"refresh": rotated["refresh"]}, format="json"), 401, "token-invalid"
    )
    # the other session is untouched
    assert api_client.post(REFRESH, {"refresh": other_session["refresh"]}, format="json").status_code == 200
    # logging out twice is fine
    assert api_client.post(LOGOUT, {"refresh": rotated["refresh"]}, format="json").status_code == 204


def test_logout_with_unknown_token_is_401(api_client, db):
    assert_problem(api_client.post(LOGOUT, {"refresh": "nope"}, format="json"), 401, "token-invalid")
    assert_problem(api_client.post(LOGOUT, {}, format="json"), 400, "validation-error")
