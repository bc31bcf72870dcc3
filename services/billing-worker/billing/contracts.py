"""Event schemas from ``contracts/events`` (CONTRACTS_DIR), compiled once per process."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from billing.config import load_settings
from billing.errors import InvalidEventError


@functools.cache
def validator_for(
    event_type: str, version: int = 1, contracts_dir: Path | None = None
) -> Draft202012Validator:
    base = contracts_dir or load_settings().contracts_dir
    path = base / "events" / f"{event_type}.v{version}.schema.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    # FormatChecker enforces uuid, email and (with rfc3339-validator installed) date-time.
    return Draft202012Validator(schema, format_checker=FormatChecker())


def schema_errors(event: Any, *, event_type: str, version: int = 1) -> list[str]:
    errors = sorted(
        validator_for(event_type, version).iter_errors(event), key=lambda e: list(e.absolute_path)
    )
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}" for e in errors]


def event_validate(event: Any, *, event_type: str, version: int = 1) -> None:
    """Raise InvalidEventError naming every violation (at most 5) when ``event`` breaks its schema."""
    errors = schema_errors(event, event_type=event_type, version=version)
    if errors:
        raise InvalidEventError(f"schema {event_type}.v{version}: " + "; ".join(errors[:5]))
