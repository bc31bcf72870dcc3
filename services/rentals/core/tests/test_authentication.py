import base64
import json
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from rest_framework.test import APIClient
from riders.services import rider_set_deactivated

pytestmark = pytest.mark.django_db

URL = "/api/wallet"


def _get(token: str | None, header: str | None = None):
    client = APIClient()
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)
    elif token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.get(URL)


def _assert_401(response, slug="token-invalid"):
    assert response.status_code == 401, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == f"https://velo.example/problems/{slug}"
    assert body["status"] == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_valid_token_from_any_published_kid_is_accepted(make_token):
    for kid in ("test-key-1", "test-key-2"):
        assert _get(make_token(kid=kid)).status_code == 200


def test_missing_token_is_401_not_authenticated():
    _assert_401(_get(None), slug="not-authenticated")


def test_malformed_header_and_garbage_token_are_401():
    _assert_401(_get(None, header="Bearer"))
    _assert_401(_get("not-a-jwt"))
    _assert_401(_get(None, header="Bearer a b"))


def test_forged_signature_is_401(make_token, jwt_keys_dir):
    # Signed by a key that is not published, but claiming a published kid.
    _assert_401(_get(make_token(key=jwt_keys_dir["attacker"], kid="test-key-1")))


def test_tampered_claims_are_401(make_token):
    header, payload, signature = make_token().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["roles"] = ["rider", "admin"]
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    _assert_401(_get(f"{header}.{forged}.{signature}"))


def test_alg_none_is_401():
    token = jwt.encode(
        {
            "sub": str(uuid.uuid4()),
            "iss": "velo-auth",
            "aud": "velo",
            "exp": 9999999999,
            "token_type": "access",
        },
        key=None,
        algorithm="none",
        headers={"kid": "test-key-1"},
    )
    _assert_401(_get(token))


def test_hs256_signed_with_the_public_key_is_401(jwt_keys_dir):
    public_pem = (jwt_keys_dir["dir"] / "test-key-1.pub.pem").read_bytes()
    header = base64.urlsafe_b64encode(
        json.dumps({"alg": "HS256", "typ": "JWT", "kid": "test-key-1"}).encode()
    ).rstrip(b"=")
    payload = base64.urlsafe_b64encode(
        json.dumps(
            {
                "sub": str(uuid.uuid4()),
                "iss": "velo-auth",
                "aud": "velo",
                "exp": 9999999999,
                "token_type": "access",
            }
        ).encode()
    ).rstrip(b"=")
    import hashlib
    import hmac

    signature = base64.urlsafe_b64encode(
        hmac.new(public_pem, header + b"." + payload, hashlib.sha256).digest()
    ).rstrip(b"=")
    _assert_401(_get((header + b"." + payload + b"." + signature).decode()))


def test_expired_token_is_401(make_token):
    _assert_401(_get(make_token(expires_in=-60)))


def test_wrong_audience_and_issuer_are_401(make_token):
    _assert_401(_get(make_token(audience="someone-else")))
    _assert_401(_get(make_token(issuer="evil-auth")))


def test_unknown_kid_is_401(make_token, jwt_keys_dir):
    _assert_401(_get(make_token(kid="unknown-kid", key=jwt_keys_dir["private"]["test-key-1"])))


def test_refresh_token_is_not_an_access_token(make_token):
    _assert_401(_get(make_token(token_type="refresh")))


def test_rotated_key_dropped_into_the_directory_is_picked_up(make_token, jwt_keys_dir):
    from cryptography.hazmat.primitives.asymmetric import rsa

    from core import jwt_keys

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    path = jwt_keys_dir["dir"] / "rotated.pub.pem"
    path.write_bytes(pem)
    try:
        jwt_keys.reset_cache()
        assert _get(make_token(kid="rotated", key=key)).status_code == 200
    finally:
        path.unlink()


def test_deactivated_rider_gets_403_account_disabled_everywhere(client_for):
    import datetime as dt

    user_id = uuid.uuid4()
    client = client_for(user_id)
    assert client.get(URL).status_code == 200
    rider_set_deactivated(user_id=user_id, deactivated=True, changed_at=dt.datetime.now(dt.UTC))
    for path in ("/api/wallet", "/api/bikes", "/api/rentals", "/api/rentals/active"):
        response = client.get(path)
        assert response.status_code == 403
        assert response.json()["type"] == "https://velo.example/problems/account-disabled"
    response = client.post("/api/rentals", {"bike_id": str(uuid.uuid4())}, format="json")
    assert response.status_code == 403
    rider_set_deactivated(user_id=user_id, deactivated=False, changed_at=dt.datetime.now(dt.UTC))
    assert client.get(URL).status_code == 200


def test_reads_use_the_process_copy_of_deactivations_and_writes_ask_the_database(
    client_for, settings, monkeypatch
):
    import datetime as dt

    from riders import selectors

    settings.RIDER_STATUS_CACHE_SECONDS = 5
    clock = {"now": 1000.0}
    monkeypatch.setattr(selectors.time, "monotonic", lambda: clock["now"])
    user_id = uuid.uuid4()
    client = client_for(user_id)
    assert client.get(URL).status_code == 200  # loads the copy (nobody deactivated)
    rider_set_deactivated(user_id=user_id, deactivated=True, changed_at=dt.datetime.now(dt.UTC))

    clock["now"] += 4.9
    assert client.get(URL).status_code == 200  # a read may lag by up to RIDER_STATUS_CACHE_SECONDS
    write = client.post("/api/rentals", {"bike_id": str(uuid.uuid4())}, format="json")
    assert write.status_code == 403  # writes are refused at once
    assert write.json()["type"] == "https://velo.example/problems/account-disabled"

    clock["now"] += 0.1
    response = client.get(URL)
    assert response.status_code == 403
    assert response.json()["type"] == "https://velo.example/problems/account-disabled"


def test_reads_cost_no_rider_query_while_the_copy_is_fresh(client_for, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.RIDER_STATUS_CACHE_SECONDS = 60
    client = client_for(uuid.uuid4())
    client.get(URL)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL).status_code == 200
    assert not [q for q in queries.captured_queries if "riders_rider" in q["sql"]]


def test_a_token_accepted_before_is_refused_once_it_expires(make_token, monkeypatch):
    import time

    from core import authentication

    token = make_token(expires_in=60)
    assert _get(token).status_code == 200  # verified and remembered
    now = time.time()
    monkeypatch.setattr(authentication.time, "time", lambda: now + 61 + 5)  # past exp + leeway (5 s)
    response = _get(token)
    _assert_401(response)
    assert response.json()["detail"] == "Token has expired."


def test_a_token_without_a_numeric_expiry_is_401(make_token):
    _assert_401(_get(make_token(extra={"exp": "tomorrow"})))
