import pytest
from core.testing import assert_problem
from tokens.models import RefreshFamily

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery-staple-42"


def test_me_returns_the_profile(make_user, client_for):
    user = make_user(name="Grace Hopper", email="grace@example.com")
    body = client_for(user).get("/api/auth/me").json()
    assert body["id"] == str(user.id)
    assert body["name"] == "Grace Hopper"
    assert body["email"] == "grace@example.com"
    assert body["roles"] == ["rider"]
    assert body["email_verified"] is True and body["is_active"] is True


def test_patch_me_renames(make_user, client_for):
    user = make_user()
    client = client_for(user)
    response = client.patch("/api/auth/me", {"name": "  New Name "}, format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "New Name"
    user.refresh_from_db()
    assert user.name == "New Name"


@pytest.mark.parametrize("payload", [{}, {"name": ""}, {"name": "x" * 151}])
def test_patch_me_rejects_bad_names(make_user, client_for, payload):
    response = client_for(make_user()).patch("/api/auth/me", payload, format="json")
    assert_problem(response, 400, "validation-error")


def test_patch_me_refuses_fields_it_does_not_know(make_user, client_for):
    user = make_user()
    payload = {"name": "Mallory", "roles": ["rider", "admin"], "is_active": True}
    response = client_for(user).patch("/api/auth/me", payload, format="json")
    body = assert_problem(response, 400, "validation-error")
    assert set(body["errors"]) == {"roles", "is_active"}
    user.refresh_from_db()
    assert user.name != "Mallory"


def test_me_requires_a_token(api_client, db):
    assert_problem(api_client.get("/api/auth/me"), 401, "not-authenticated")
    assert_problem(api_client.patch("/api/auth/me", {"name": "x"}, format="json"), 401, "not-authenticated")


def test_password_change_revokes_every_refresh_family(api_client, make_user, login):
    user = make_user()
    first, second = login(user), login(user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {first['access']}")
    response = api_client.post(
        "/api/auth/password",
        {"old_password": PASSWORD, "new_password": "an-entirely-new-secret-77"},
        format="json",
    )
    assert response.status_code == 204
    api_client.credentials()
    for pair in (first, second):
        refused = api_client.post("/api/auth/token/refresh", {"refresh": pair["refresh"]}, format="json")
        assert_problem(refused, 401, "token-invalid")
    assert set(RefreshFamily.objects.values_list("revoked_reason", flat=True)) == {"password-changed"}
    # old password is gone, new one works
    old = api_client.post("/api/auth/token", {"email": user.email, "password": PASSWORD}, format="json")
    assert old.status_code == 401
    login(user, "an-entirely-new-secret-77")


def test_password_change_with_wrong_old_password_is_400(make_user, client_for):
    response = client_for(make_user()).post(
        "/api/auth/password",
        {"old_password": "not-my-password", "new_password": "whatever-else-99"},
        format="json",
    )
    assert "old_password" in assert_problem(response, 400, "validation-error")["errors"]


def test_password_change_applies_validators(make_user, client_for):
    response = client_for(make_user()).post(
        "/api/auth/password", {"old_password": PASSWORD, "new_password": "12345"}, format="json"
    )
    assert "new_password" in assert_problem(response, 400, "validation-error")["errors"]


def test_password_change_requires_a_token(api_client, db):
    response = api_client.post(
        "/api/auth/password", {"old_password": "a", "new_password": "b"}, format="json"
    )
    assert_problem(response, 401, "not-authenticated")


def test_password_change_attempts_are_limited(make_user, client_for, settings):
    settings.AUTH_PASSWORD_CHANGE_RATE_PER_ACCOUNT = 2
    client = client_for(make_user())
    wrong = {"old_password": "not-my-password", "new_password": "whatever-else-99"}
    for _ in range(2):
        assert client.post("/api/auth/password", wrong, format="json").status_code == 400
    response = client.post("/api/auth/password", wrong, format="json")
    assert_problem(response, 429, "rate-limited")
    assert int(response["Retry-After"]) >= 1
