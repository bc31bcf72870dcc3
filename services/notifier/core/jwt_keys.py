"""Public verification keys, one `<kid>.pub.pem` per file in JWT_PUBLIC_KEYS_DIR."""

import logging
import threading
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.conf import settings

logger = logging.getLogger(__name__)

_SUFFIX = ".pub.pem"
_RELOAD_MIN_INTERVAL_SECONDS = 10.0

_lock = threading.Lock()
_keys: dict[str, RSAPublicKey] = {}
_loaded_from: str | None = None
_loaded_at = 0.0


def _load(directory: str | None) -> dict[str, RSAPublicKey]:
    keys: dict[str, RSAPublicKey] = {}
    if not directory:
        return keys
    path = Path(directory)
    if not path.is_dir():
        logger.warning("jwt public key directory missing", extra={"dir": directory})
        return keys
    for file in sorted(path.glob(f"*{_SUFFIX}")):
        try:
            key = load_pem_public_key(file.read_bytes())
        except ValueError:
            logger.warning("unreadable jwt public key", extra={"file": str(file)})
            continue
        if isinstance(key, RSAPublicKey):
            keys[file.name[: -len(_SUFFIX)]] = key
    return keys


def public_key_for(kid: str) -> RSAPublicKey | None:
    """Return the key for `kid`; re-reads the directory (rate limited) when a kid is unknown (rotation)."""
    global _keys, _loaded_from, _loaded_at
    directory = settings.JWT_PUBLIC_KEYS_DIR
    key = _keys.get(kid) if _loaded_from == directory else None
    if key is not None:
        return key
    with _lock:
        now = time.monotonic()
        if _loaded_from != directory or now - _loaded_at >= _RELOAD_MIN_INTERVAL_SECONDS:
            _keys = _load(directory)
            _loaded_from = directory
            _loaded_at = now
        return _keys.get(kid)


def reset_cache() -> None:
    global _keys, _loaded_from, _loaded_at
    with _lock:
        _keys, _loaded_from, _loaded_at = {}, None, 0.0
