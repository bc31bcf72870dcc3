"""Every forged or unacceptable access token is refused with 401 problem+json."""

import base64
import hashlib
import hmac
import json
import time
import uuid

import jwt
import pytest
from core.testing import assert_problem

pytestmark = pytest.mark.django_db

ME = "/api/auth/me"


def _claims(user, **overrides):
    now = int(time.time())
    claims = {
        "sub": str(user.id),
        "name": user.name,
        "email": user.email,
        "roles": ["rider", "admin"],
        "iss": "velo-auth",
        "aud": "velo",
        "iat": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
        "token_type": "access",
    }
    claims.update(overrides)
    return claims


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _get_me(api_client, token):
    return api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {token}")


def test_valid_token_is_accepted(api_client, make_user, jwt_keys):
    user = make_user()
    token = jwt.encode(_claims(user), jwt_keys["main"], algorithm="RS256", headers={"kid": "test-main"})
    response = _get_me(api_client, token)
    assert response.status_code == 200
    assert response.json()["id"] == str(user.id)


def test_key_rotation_new_public_key_is_accepted(api_client, make_user, jwt_keys):
    user = make_user()
    token = jwt.encode(_claims(user), jwt_keys["next"], algorithm="RS256", headers={"kid": "test-next"})
    assert _get_me(api_client, token).status_code == 200


def test_token_signed_by_another_key_is_refused(api_client, make_user, jwt_keys):
    user = make_user()
    token = jwt.encode(_claims(user), jwt_keys["rogue"], algorithm="RS256", headers={"kid": "test-main"})
    body = assert_problem(_get_me(api_client, token), 401, "token-invalid")
    assert "Bearer" in _get_me(api_client, token)["WWW-Authenticate"]
    assert body["instance"] == ME


def test_unknown_kid_is_refused(api_client, make_user, jwt_keys):
    token = jwt.encode(_claims(make_user()), jwt_keys["main"], algorithm="RS256", headers={"kid": "retired"})
    assert_problem(_get_me(api_client, token), 401, "token-invalid")


def test_missing_kid_is_refused(api_client, make_user, jwt_keys):
    token = jwt.encode(_claims(make_user()), jwt_keys["main"], algorithm="RS256")
    assert_problem(_get_me(api_client, token), 401, "token-invalid")


def test_alg_none_is_refused(api_client, make_user):
    header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": "test-main"}).encode())
    payload = _b64(json.dumps(_claims(make_user())).encode())
    assert_problem(_get_me(api_client, f"{header}.{payload}."), 401, "token-invalid")


def test_hs256_with_the_public_key_as_secret_is_refused(api_client, make_user, jwt_keys):
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "test-main"}).encode())
    payload = _b64(json.dumps(_claims(make_user())).encode())
    signing_input = f"{header}.{payload}".encode()
    signature = _b64(hmac.new(jwt_keys["public_pem"], signing_input, hashlib.sha256).digest())
    assert_problem(_get_me(api_client, f"{header}.{payload}.{signature}"), 401, "token-invalid")


def test_expired_token_is_refused(api_client, make_user, jwt_keys):
    now = int(time.time())
    claims = _claims(make_user(), iat=now - 600, exp=now - 1)
    token = jwt.encode(claims, jwt_keys["main"], algorithm="RS256", headers={"kid": "test-main"})
    assert_problem(_get_me(api_client, token), 401, "token-invalid")


@pytest.mark.parametrize(
    "claim", [{"aud": "other-service"}, {"iss": "evil-issuer"}, {"token_type": "refresh"}]
)
def test_wrong_audience_issuer_or_type_is_refused(api_client, make_user, jwt_keys, claim):
    token = jwt.encode(
        _claims(make_user(), **claim), jwt_keys["main"], algorithm="RS256", headers={"kid": "test-main"}
    )
    assert_problem(_get_me(api_client, token), 401, "token-invalid")


def test_tampered_payload_is_refused(api_client, make_user, login):
    user = make_user()
    access = login(user)["access"]
    header, _payload, signature = access.split(".")
    forged_payload = _b64(json.dumps(_claims(user, roles=["rider", "admin"])).encode())
    assert_problem(_get_me(api_client, f"{header}.{forged_payload}.{signature}"), 401, "token-invalid")


@pytest.mark.parametrize("value", ["Bearer", "Bearer a b", "Bearer not.a.jwt", "Bearer ..."])
def test_malformed_authorization_header_is_401(api_client, db, value):
    response = api_client.get(ME, HTTP_AUTHORIZATION=value)
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/problem+json")


def test_missing_token_is_401_not_authenticated(api_client, db):
    assert_problem(api_client.get(ME), 401, "not-authenticated")


def test_token_of_a_deleted_user_is_refused(api_client, make_user, jwt_keys):
    user = make_user()
    token = jwt.encode(_claims(user), jwt_keys["main"], algorithm="RS256", headers={"kid": "test-main"})
    user.delete()
    assert_problem(_get_me(api_client, token), 401, "token-invalid")


def test_token_of_a_disabled_user_is_refused(api_client, make_user, jwt_keys):
    user = make_user()
    token = jwt.encode(_claims(user), jwt_keys["main"], algorithm="RS256", headers={"kid": "test-main"})
    user.is_active = False
    user.save()
    assert_problem(_get_me(api_client, token), 401, "account-disabled")
