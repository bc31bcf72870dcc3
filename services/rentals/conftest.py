"""Shared fixtures: RSA keys generated per test session, tokens, API clients, fleet factories."""

import datetime as dt
import hashlib
import hmac
import json
import os
import uuid
from pathlib import Path

import jwt
import pytest
from core import jwt_keys
from core.authentication import reset_token_cache
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from rest_framework.test import APIClient

KIDS = ("test-key-1", "test-key-2")


def _keypair():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return key, public_pem


@pytest.fixture(scope="session")
def jwt_keys_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("jwt-public")
    private = {}
    for kid in KIDS:
        key, public_pem = _keypair()
        (directory / f"{kid}.pub.pem").write_bytes(public_pem)
        private[kid] = key
    attacker, attacker_public = _keypair()
    return {
        "dir": Path(directory),
        "private": private,
        "attacker": attacker,
        "attacker_public": attacker_public,
    }


@pytest.fixture(autouse=True)
def _jwt_public_keys(jwt_keys_dir):
    settings.JWT_PUBLIC_KEYS_DIR = str(jwt_keys_dir["dir"])
    jwt_keys.reset_cache()
    reset_token_cache()
    yield


@pytest.fixture(autouse=True)
def _fresh_process_caches():
    """Per-process read caches (reservation expiry gate, deactivated riders) start empty in every test:
    tests move the clock and the database back and forth."""
    from reservations.expiry_gate import expiry_gate
    from riders.selectors import deactivated_riders

    expiry_gate.reset()
    deactivated_riders.reset()
    yield


@pytest.fixture
def make_token(jwt_keys_dir):
    def _make(
        *,
        user_id: uuid.UUID | None = None,
        roles=("rider",),
        email: str = "ada@example.com",
        name: str = "Ada Lovelace",
        kid: str = KIDS[0],
        key=None,
        algorithm: str = "RS256",
        expires_in: int = 300,
        audience: str | None = None,
        issuer: str | None = None,
        token_type: str = "access",  # noqa: S107
        extra: dict | None = None,
    ) -> str:
        now = dt.datetime.now(dt.UTC)
        claims = {
            "sub": str(user_id or uuid.uuid4()),
            "name": name,
            "email": email,
            "roles": list(roles),
            "iss": issuer or settings.JWT_ISSUER,
            "aud": audience or settings.JWT_AUDIENCE,
            "iat": int(now.timestamp()),
            "exp": int((now + dt.timedelta(seconds=expires_in)).timestamp()),
            "jti": uuid.uuid4().hex,
            "token_type": token_type,
            **(extra or {}),
        }
        signing_key = key if key is not None else jwt_keys_dir["private"][kid]
        return jwt.encode(claims, signing_key, algorithm=algorithm, headers={"kid": kid})

    return _make


@pytest.fixture
def client_for(make_token):
    """client_for(user_id, admin=False) -> APIClient with a valid bearer token."""

    def _client(user_id: uuid.UUID | None = None, *, admin: bool = False, **token_kwargs) -> APIClient:
        client = APIClient()
        roles = ("rider", "admin") if admin else ("rider",)
        token = make_token(user_id=user_id or uuid.uuid4(), roles=roles, **token_kwargs)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client

    return _client


@pytest.fixture
def rider_id() -> uuid.UUID:
    return uuid.uuid4()


@pytest.fixture
def rider(client_for, rider_id) -> APIClient:
    return client_for(rider_id)


@pytest.fixture
def admin(client_for) -> APIClient:
    return client_for(uuid.uuid4(), admin=True)


@pytest.fixture
def station(db):
    from fleet.models import Station

    return Station.objects.create(name="Alexanderplatz", lat=52.5219, lon=13.4132, capacity=10)


@pytest.fixture
def other_station(db):
    from fleet.models import Station

    return Station.objects.create(name="Potsdamer Platz", lat=52.5097, lon=13.3765, capacity=10)


@pytest.fixture
def tariff(db):
    from fleet.models import Tariff

    return Tariff.objects.create(
        name="Standard",
        unlock_fee=100,
        price_per_minute=25,
        daily_cap=2000,
        currency="EUR",
        valid_from=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
    )


@pytest.fixture
def make_bike(db, station):
    from fleet.models import Bike

    counter = {"n": 0}

    def _make(*, status: str = "available", at=station, number: str | None = None) -> Bike:
        counter["n"] += 1
        return Bike.objects.create(
            number=number or f"T-{uuid.uuid4().hex[:8]}-{counter['n']}",
            model="Test",
            status=status,
            station=at,
            lat=at.lat if at else None,
            lon=at.lon if at else None,
        )

    return _make


@pytest.fixture
def bike(make_bike):
    return make_bike()


@pytest.fixture
def sign():
    def _sign(body: bytes, secret: str | None = None) -> str:
        digest = hmac.new((secret or settings.PAYMENTS_WEBHOOK_SECRET).encode(), body, hashlib.sha256)
        return "sha256=" + digest.hexdigest()

    return _sign


@pytest.fixture
def contract_examples():
    root = Path(settings.CONTRACTS_DIR) / "examples"

    def _load(event_type: str, *, invalid: bool = False) -> list[tuple[str, dict]]:
        folder = root / "invalid" / event_type if invalid else root / event_type
        return [(p.name, json.loads(p.read_text())) for p in sorted(folder.glob("*.json"))]

    return _load


def require_env(*names: str):
    missing = [name for name in names if not os.environ.get(name)]
    return pytest.mark.skipif(bool(missing), reason=f"needs real infrastructure: {', '.join(missing)} unset")
