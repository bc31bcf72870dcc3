"""Shared fixtures: RSA keys per test session, tokens, API clients, the fake Bot API, event envelopes."""

import datetime as dt
import json
import threading
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

ROOT = Path(__file__).resolve().parent.parent.parent
KID = "test-key-1"


@pytest.fixture(scope="session")
def signing_key(tmp_path_factory):
    directory = tmp_path_factory.mktemp("jwt-public")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (directory / f"{KID}.pub.pem").write_bytes(public_pem)
    return {"dir": str(directory), "key": key}


@pytest.fixture(autouse=True)
def _jwt_public_keys(signing_key):
    settings.JWT_PUBLIC_KEYS_DIR = signing_key["dir"]
    jwt_keys.reset_cache()
    reset_token_cache()
    yield


def make_token(signing_key, *, user_id: uuid.UUID, email: str = "", name: str = "Ada", **overrides) -> str:
    now = dt.datetime.now(dt.UTC)
    claims = {
        "sub": str(user_id),
        "email": email or f"{user_id.hex[:8]}@example.com",
        "name": name,
        "roles": [],
        "iss": settings.JWT_ISSUER,
        "aud": settings.JWT_AUDIENCE,
        "iat": int(now.timestamp()),
        "exp": int((now + dt.timedelta(minutes=5)).timestamp()),
        "token_type": "access",
    } | overrides
    return jwt.encode(claims, signing_key["key"], algorithm="RS256", headers={"kid": KID})


@pytest.fixture
def rider_client(signing_key):
    def build(user_id: uuid.UUID | None = None, **claims) -> APIClient:
        user_id = user_id or uuid.uuid4()
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(signing_key, user_id=user_id, **claims)}")
        client.user_id = user_id
        return client

    return build


@pytest.fixture
def fake_telegram(tmp_path, settings):
    """tools/fake_telegram in a thread on a free port; settings point the Bot at it."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("fake_telegram", ROOT / "tools/fake_telegram/server.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    server = module.FakeTelegram(("127.0.0.1", 0), tmp_path, "velo_test_bot")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.TELEGRAM_API_BASE_URL = f"http://127.0.0.1:{server.server_address[1]}"
    settings.TELEGRAM_BOT_USERNAME = None

    class Sink:
        root = tmp_path

        def messages(self, chat_id: int | None = None) -> list[dict]:
            found = [json.loads(p.read_text()) for p in sorted((tmp_path / "messages").glob("*.json"))]
            return [m for m in found if chat_id is None or m["chat_id"] == chat_id]

    yield Sink()
    server.shutdown()
    server.server_close()


def envelope(event_type: str, data: dict, *, producer: str = "rentals", event_id: str | None = None) -> dict:
    return {
        "event_id": event_id or str(uuid.uuid4()),
        "event_type": event_type,
        "version": 1,
        "occurred_at": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
        "producer": producer,
        "data": data,
    }


TARIFF = {
    "id": "c0ffee00-0000-4000-8000-000000000001",
    "name": "Standard",
    "unlock_fee": 100,
    "price_per_minute": 25,
    "daily_cap": 2000,
    "currency": "EUR",
}
