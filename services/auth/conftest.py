"""Shared fixtures: generated RSA keys, users, authenticated clients, contract validation."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from accounts.models import User
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from rest_framework.test import APIClient

SIGNING_KID = "test-main"
NEXT_KID = "test-next"
ROGUE_KID = "test-main"  # a rogue key that claims the real kid
DEFAULT_PASSWORD = "correct-horse-battery-staple-42"


def _write_key(directory: Path, kid: str, *, private: bool, public: bool) -> rsa.RSAPrivateKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if private:
        (directory / f"{kid}.pem").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    if public:
        (directory / f"{kid}.pub.pem").write_bytes(
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
    return key


@pytest.fixture(scope="session")
def jwt_keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    private_dir = tmp_path_factory.mktemp("jwt")
    public_dir = tmp_path_factory.mktemp("jwt-public")
    main = _write_key(private_dir, SIGNING_KID, private=True, public=True)
    (public_dir / f"{SIGNING_KID}.pub.pem").write_bytes((private_dir / f"{SIGNING_KID}.pub.pem").read_bytes())
    rotated = _write_key(public_dir, NEXT_KID, private=False, public=True)
    rogue = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return {
        "private_dir": str(private_dir),
        "public_dir": str(public_dir),
        "main": main,
        "next": rotated,
        "rogue": rogue,
        "public_pem": (public_dir / f"{SIGNING_KID}.pub.pem").read_bytes(),
    }


@pytest.fixture(autouse=True)
def _jwt_settings(settings, jwt_keys) -> None:
    settings.JWT_KEYS_DIR = jwt_keys["private_dir"]
    settings.JWT_PUBLIC_KEYS_DIR = jwt_keys["public_dir"]
    settings.JWT_SIGNING_KID = SIGNING_KID


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def make_user(db) -> Callable[..., User]:
    counter = {"n": 0}

    def factory(
        *,
        email: str | None = None,
        password: str = DEFAULT_PASSWORD,
        name: str = "Ada Lovelace",
        verified: bool = True,
        is_active: bool = True,
        is_staff: bool = False,
    ) -> User:
        counter["n"] += 1
        user = User(
            email=email or f"rider{counter['n']}@example.com",
            name=name,
            email_verified=verified,
            is_active=is_active,
            is_staff=is_staff,
            is_superuser=is_staff,
        )
        user.set_password(password)
        user.save()
        return user

    return factory


@pytest.fixture
def login(api_client) -> Callable[..., dict[str, Any]]:
    def do_login(user: User, password: str = DEFAULT_PASSWORD) -> dict[str, Any]:
        response = api_client.post(
            "/api/auth/token", {"email": user.email, "password": password}, format="json"
        )
        assert response.status_code == 200, response.content
        return response.json()

    return do_login


@pytest.fixture
def client_for(login) -> Callable[[User], APIClient]:
    def build(user: User) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {login(user)['access']}")
        return client

    return build


@pytest.fixture(scope="session")
def contract_validate() -> Callable[[dict[str, Any]], None]:
    """Validate an event envelope against its contract in CONTRACTS_DIR (core.contracts, with formats)."""
    from core.contracts import validate_event

    return validate_event
