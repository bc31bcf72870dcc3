import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from accounts.models import User

SERVICE_DIR = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_ensure_admin_without_env_is_a_noop(monkeypatch):
    monkeypatch.delenv("ADMIN_EMAIL", raising=False)
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    out = StringIO()
    call_command("ensure_admin", stdout=out)
    assert "not set" in out.getvalue()
    assert not User.objects.exists()


@pytest.mark.django_db
def test_ensure_admin_creates_then_keeps_the_admin(monkeypatch, api_client):
    monkeypatch.setenv("ADMIN_EMAIL", "root@example.com")
    monkeypatch.setenv("ADMIN_PASSWORD", "operator-password-1")
    for expected in ("created", "left unchanged"):
        out = StringIO()
        call_command("ensure_admin", stdout=out)
        assert expected in out.getvalue()
    assert User.objects.count() == 1
    token = api_client.post(
        "/api/auth/token", {"email": "root@example.com", "password": "operator-password-1"}, format="json"
    )
    assert token.status_code == 200
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.json()['access']}")
    assert api_client.get("/api/auth/me").json()["roles"] == ["rider", "admin"]


@pytest.mark.django_db
def test_ensure_admin_never_reenables_or_repromotes(monkeypatch):
    monkeypatch.setenv("ADMIN_EMAIL", "root@example.com")
    monkeypatch.setenv("ADMIN_PASSWORD", "operator-password-1")
    call_command("ensure_admin", stdout=StringIO())
    User.objects.update(is_active=False, is_staff=False, is_superuser=False)
    monkeypatch.setenv("ADMIN_PASSWORD", "another-password-2")
    call_command("ensure_admin", stdout=StringIO())
    user = User.objects.get()
    assert (user.is_active, user.is_staff, user.is_superuser) == (False, False, False)
    assert user.check_password("operator-password-1")


@pytest.mark.django_db
def test_ensure_admin_without_password_creates_an_account_to_reset(monkeypatch):
    monkeypatch.setenv("ADMIN_EMAIL", "root@example.com")
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    out = StringIO()
    call_command("ensure_admin", stdout=out)
    assert "password reset" in out.getvalue()
    assert not User.objects.get().has_usable_password()


def test_production_settings_hash_passwords_with_argon2():
    code = (
        "import django; django.setup();"
        "from django.contrib.auth.hashers import get_hasher, make_password, check_password;"
        "h = make_password('s3cret-pass');"
        "assert check_password('s3cret-pass', h);"
        "print(get_hasher().algorithm, h.split('$')[0])"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "test-only-secret-key-for-the-production-settings-check",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=SERVICE_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["argon2", "argon2"]


def test_production_settings_require_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SECRET_KEY"}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.production"
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=SERVICE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
