"""Agency clients: operators create, list and revoke them; a client's credentials buy RS256 access tokens
with role `agency` and its provider_id, which rentals' MDS endpoints accept."""

import uuid

import jwt
import pytest
from django.conf import settings
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(make_user, client_for) -> APIClient:
    return client_for(make_user(email="ops@example.com", is_staff=True))


def _create(operator, **body):
    response = operator.post("/api/auth/agencies", {"name": "City of Berlin", **body}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _token(client_id, secret):
    return APIClient().post(
        "/api/auth/token/agency", {"client_id": client_id, "client_secret": secret}, format="json"
    )


def test_an_agency_client_gets_an_agency_token(operator, jwt_keys):
    created = _create(operator)
    assert created["provider_id"] == settings.MDS_PROVIDER_ID
    assert created["is_active"] is True
    response = _token(created["id"], created["client_secret"])
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == settings.AGENCY_TOKEN_TTL_SECONDS
    public_key = jwt.get_unverified_header(body["access"])
    assert public_key["alg"] == "RS256" and public_key["kid"]
    claims = jwt.decode(
        body["access"],
        jwt_keys["main"].public_key(),
        algorithms=["RS256"],
        audience=settings.JWT_AUDIENCE,
        issuer=settings.JWT_ISSUER,
    )
    assert claims["sub"] == created["id"]
    assert claims["roles"] == ["agency"]
    assert claims["provider_id"] == settings.MDS_PROVIDER_ID
    assert claims["token_type"] == "access"
    assert claims["exp"] - claims["iat"] == settings.AGENCY_TOKEN_TTL_SECONDS

    listed = operator.get("/api/auth/agencies").json()
    assert [c["id"] for c in listed] == [created["id"]]
    assert "client_secret" not in listed[0]


def test_an_operator_may_name_the_provider_id(operator):
    provider_id = str(uuid.uuid4())
    assert _create(operator, provider_id=provider_id)["provider_id"] == provider_id


def test_a_revoked_client_gets_no_more_tokens(operator):
    created = _create(operator)
    assert operator.delete(f"/api/auth/agencies/{created['id']}").status_code == 204
    response = _token(created["id"], created["client_secret"])
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert operator.get("/api/auth/agencies").json()[0]["is_active"] is False
    assert operator.delete(f"/api/auth/agencies/{uuid.uuid4()}").status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"client_secret": "wrong"},
        {"client_id": str(uuid.uuid4())},
        {"client_id": "not-a-uuid"},
    ],
)
def test_wrong_credentials_are_401(operator, body):
    created = _create(operator)
    credentials = {"client_id": created["id"], "client_secret": created["client_secret"], **body}
    response = APIClient().post("/api/auth/token/agency", credentials, format="json")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


def test_bad_input_is_400(operator):
    response = APIClient().post("/api/auth/token/agency", {"client_id": "x"}, format="json")
    assert response.status_code == 400
    response = operator.post("/api/auth/agencies", {"name": "A", "provider_id": "nope"}, format="json")
    assert response.status_code == 400
    response = operator.post("/api/auth/agencies", {"name": "A", "roles": ["admin"]}, format="json")
    assert response.status_code == 400
    _create(operator)
    assert operator.post("/api/auth/agencies", {"name": "City of Berlin"}, format="json").status_code == 409


def test_only_operators_manage_agency_clients(make_user, client_for):
    rider = client_for(make_user())
    assert rider.get("/api/auth/agencies").status_code == 403
    assert rider.post("/api/auth/agencies", {"name": "X"}, format="json").status_code == 403
    assert APIClient().get("/api/auth/agencies").status_code == 401


def test_an_agency_token_is_not_an_account_token(operator):
    created = _create(operator)
    access = _token(created["id"], created["client_secret"]).json()["access"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    # No account behind it: auth's own account endpoints refuse it.
    assert client.get("/api/auth/me").status_code == 401
