"""Typed readers for environment variables (every settings difference is one). The same file in every Django
service (tools/check_shared_code.py). An empty variable counts as unset: its default applies."""

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def env_required(name: str) -> str:
    value = env(name)
    if value is None:
        raise ImproperlyConfigured(f"environment variable {name} is required")
    return value


def env_int(name: str, default: int) -> int:
    raw = env(name)
    try:
        return default if raw is None else int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None


def env_bool(name: str, default: bool) -> bool:
    raw = env(name)
    if raw is None:
        return default
    if raw.strip().lower() in _TRUE:
        return True
    if raw.strip().lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {raw!r}")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in (env(name, default) or "").split(",") if item.strip()]


def _env_float(name: str, default: float, *, allow_zero: bool) -> float:
    raw = env(name)
    try:
        value = default if raw is None else float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}") from None
    if not (value >= 0 if allow_zero else value > 0) or value == float("inf"):
        kind = "a non-negative" if allow_zero else "a positive"
        raise ImproperlyConfigured(f"{name} must be {kind} number, got {raw!r}")
    return value


def env_positive_float(name: str, default: float) -> float:
    return _env_float(name, default, allow_zero=False)


def env_nonnegative_float(name: str, default: float) -> float:
    return _env_float(name, default, allow_zero=True)
