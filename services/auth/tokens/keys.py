"""RSA keys from disk: `<kid>.pem` (private, signing) and `<kid>.pub.pem` (public, verifying).

Public keys are re-read when the directory changes, so a key added for rotation is served in the JWKS
and accepted without a restart; retiring a key is removing its `.pub.pem`.
"""

import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_KID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_PUB_SUFFIX = ".pub.pem"
_lock = threading.Lock()
_public_cache: dict[str, tuple[tuple[int, int], dict[str, RSAPublicKey]]] = {}
_private_cache: dict[tuple[str, str], tuple[float, RSAPrivateKey]] = {}


@dataclass(frozen=True)
class SigningKey:
    kid: str
    key: RSAPrivateKey


def _dir_stamp(directory: Path) -> tuple[int, int]:
    stat = directory.stat()
    return stat.st_mtime_ns, stat.st_ino


def public_keys(*, directory: str | None = None) -> dict[str, RSAPublicKey]:
    path = Path(directory or settings.JWT_PUBLIC_KEYS_DIR)
    try:
        stamp = _dir_stamp(path)
    except OSError:
        return {}
    cached = _public_cache.get(str(path))
    if cached and cached[0] == stamp:
        return cached[1]
    keys: dict[str, RSAPublicKey] = {}
    for entry in sorted(path.glob(f"*{_PUB_SUFFIX}")):
        kid = entry.name[: -len(_PUB_SUFFIX)]
        if not _KID.match(kid):
            continue
        key = load_pem_public_key(entry.read_bytes())
        if isinstance(key, RSAPublicKey):
            keys[kid] = key
    with _lock:
        _public_cache[str(path)] = (stamp, keys)
    return keys


def signing_key() -> SigningKey:
    kid = settings.JWT_SIGNING_KID
    if not kid or not _KID.match(kid):
        raise ImproperlyConfigured("JWT_SIGNING_KID must name a key in JWT_KEYS_DIR")
    path = Path(settings.JWT_KEYS_DIR) / f"{kid}.pem"
    try:
        mtime = os.stat(path).st_mtime
    except OSError as exc:
        raise ImproperlyConfigured(f"Signing key {path} is missing") from exc
    cached = _private_cache.get((str(path), kid))
    if cached and cached[0] == mtime:
        return SigningKey(kid=kid, key=cached[1])
    key = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, RSAPrivateKey):
        raise ImproperlyConfigured(f"Signing key {path} is not an RSA private key")
    with _lock:
        _private_cache[(str(path), kid)] = (mtime, key)
    return SigningKey(kid=kid, key=key)
