"""Event contracts (JSON Schema draft 2020-12, CONTRACTS_DIR/events/<event_type>.v<version>.schema.json),
checked on emit and on receipt.

The same file in every service (tools/check_shared_code.py; billing-worker keeps it as billing/contracts.py),
so it uses no framework: the contracts are read from CONTRACTS_DIR (the images set it), by default the
repository's contracts/ (this file sits at services/<service>/<package>/contracts.py)."""

import functools
import json
import os
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator


class ContractViolation(Exception):
    pass


def contracts_dir() -> Path:
    configured = os.environ.get("CONTRACTS_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parents[3] / "contracts"


@functools.cache
def _validator(directory: str, event_type: str, version: int) -> Draft202012Validator | None:
    path = Path(directory) / "events" / f"{event_type}.v{version}.schema.json"
    if not path.is_file():
        return None
    schema = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _contract(envelope: Any, event_type: str | None, version: int | None) -> tuple[str, int]:
    """The contract to check: the one the caller expects, else the envelope's own event_type/version."""
    if isinstance(envelope, dict):
        event_type = event_type if event_type is not None else envelope.get("event_type")
        version = version if version is not None else envelope.get("version")
    if not isinstance(event_type, str) or not isinstance(version, int) or isinstance(version, bool):
        raise ContractViolation("event_type/version missing")
    return event_type, version


def contract_errors(envelope: Any, *, event_type: str | None = None, version: int | None = None) -> list[str]:
    """Every violation (`path: message`, in path order); [] when `envelope` is valid. Raises
    ContractViolation when the contract is unknown or the envelope names none."""
    event_type, version = _contract(envelope, event_type, version)
    validator = _validator(str(contracts_dir()), event_type, version)
    if validator is None:
        raise ContractViolation(f"no contract for {event_type} v{version}")
    errors = sorted(validator.iter_errors(envelope), key=lambda error: list(map(str, error.absolute_path)))
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message}" for error in errors
    ]


def validate_event(envelope: Any, *, event_type: str | None = None, version: int | None = None) -> None:
    """Raise ContractViolation (naming at most 5 violations) unless `envelope` is a valid event."""
    errors = contract_errors(envelope, event_type=event_type, version=version)
    if errors:
        event_type, version = _contract(envelope, event_type, version)
        raise ContractViolation(f"schema {event_type}.v{version}: " + "; ".join(errors[:5]))
