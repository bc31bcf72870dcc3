import jwt
import pytest
from core.testing import assert_problem

from tokens.models import RefreshFamily

pytestmark = pytest.mark.django_db

URL = "/api/auth/token"
PASSWORD = "correct-horse-battery-staple-42"


def test_login_returns_bearer_pair_with_contract_claims(api_client, make_user, jwt_keys):
    user = make_user(email="Rider@Example.com", name="Rider One")
    response = api_client.post(URL, {"email": "rider@example.COM", "password": PASSWORD}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 300
    assert body["refresh"] and body["access"]
    assert response["Cache-Control"] == "no-store"

    header = jwt.get_unverified_header(body["access"])
    assert header == {"alg": "RS256", "kid": "test-main", "typ": "JWT"}
    claims = jwt.decode(
        body["access"],
        jwt_keys["main"].public_key(),
        algorithms=["RS256"],
        audience="velo",
        issuer="velo-auth",
    )
    assert claims["sub"] == str(user.id)
    assert claims["name"] == "Rider One"
    assert claims["email"] == user.email == "Rider@Example.com"
    assert claims["roles"] == ["rider"]
    assert claims["token_type"] == "access"
    assert claims["exp"] - claims["iat"] == 300
    assert len(claims["jti"]) >= 16
    assert RefreshFamily.objects.filter(user=user).count() == 1


def test_admin_token_has_admin_role(api_client, make_user, jwt_keys):
    admin = make_user(is_staff=True)
    body = api_client.post(URL, {"email": admin.email, "password": PASSWORD}, format="json").json()
    claims = jwt.decode(body["access"], options={"verify_signature": False})
    assert claims["roles"] == ["rider", "admin"]


def test_wrong_password_is_401(api_client, make_user):
    user = make_user()
    response = api_client.post(URL, {"email": user.email, "password": "wrong-password-123"}, format="json")
    assert_problem(response, 401, "invalid-credentials")


def test_unknown_email_is_401_like_a_wrong_password(api_client, db):
    response = api_client.post(URL, {"email": "nobody@example.com", "password": PASSWORD}, format="json")
    assert_problem(response, 401, "invalid-credentials")


def test_unverified_account_is_403_email_not_verified(api_client, make_user):
    user = make_user(verified=False)
    response = api_client.post(URL, {"email": user.email, "password": PASSWORD}, format="json")
    assert_problem(response, 403, "email-not-verified")


def test_unverified_account_may_log_in_when_requirement_is_off(api_client, make_user, settings):
    settings.AUTH_REQUIRE_EMAIL_VERIFICATION = False
    user = make_user(verified=False)
    response = api_client.post(URL, {"email": user.email, "password": PASSWORD}, format="json")
    assert response.status_code == 200


def test_disabled_account_is_403_account_disabled(api_client, make_user):
    user = make_user(is_active=False)
    response = api_client.post(URL, {"email": user.email, "password": PASSWORD}, format="json")
    assert_problem(response, 403, "account-disabled")


def test_disabled_account_with_wrong_password_reveals_nothing(api_client, make_user):
    user = make_user(is_active=False)
    response = api_client.post(URL, {"email": user.email, "password": "not-it-at-all-9"}, format="json")
    assert_problem(response, 401, "invalid-credentials")


@pytest.mark.parametrize("payload", [{}, {"email": "x@example.com"}, {"email": "nope", "password": "x"}])
def test_missing_or_malformed_fields_are_400(api_client, db, payload):
    assert_problem(api_client.post(URL, payload, format="json"), 400, "validation-error")
