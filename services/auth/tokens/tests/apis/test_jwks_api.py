import jwt
import pytest
from jwt import PyJWKSet

pytestmark = pytest.mark.django_db


def test_jwks_publishes_every_public_key_and_verifies_issued_tokens(api_client, make_user, login, jwt_keys):
    response = api_client.get("/api/auth/.well-known/jwks.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert sorted(key["kid"] for key in body["keys"]) == ["test-main", "test-next"]
    for key in body["keys"]:
        assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig"
        assert "d" not in key  # never private material

    access = login(make_user())["access"]
    keyset = PyJWKSet.from_dict(body)
    kid = jwt.get_unverified_header(access)["kid"]
    signing_jwk = next(k for k in keyset.keys if k.key_id == kid)
    claims = jwt.decode(access, signing_jwk.key, algorithms=["RS256"], audience="velo")
    assert claims["token_type"] == "access"


def test_jwks_follows_key_rotation_on_disk(api_client, tmp_path, settings, jwt_keys):
    from pathlib import Path

    source = Path(jwt_keys["public_dir"]) / "test-main.pub.pem"
    (tmp_path / "only.pub.pem").write_bytes(source.read_bytes())
    settings.JWT_PUBLIC_KEYS_DIR = str(tmp_path)
    assert [k["kid"] for k in api_client.get("/api/auth/.well-known/jwks.json").json()["keys"]] == ["only"]

    (tmp_path / "newer.pub.pem").write_bytes(source.read_bytes())
    kids = [k["kid"] for k in api_client.get("/api/auth/.well-known/jwks.json").json()["keys"]]
    assert sorted(kids) == ["newer", "only"]
