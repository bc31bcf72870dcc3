"""Event contracts from CONTRACTS_DIR (JSON Schema draft 2020-12), validated on emit and on receipt."""

import functools
import json
from pathlib import Path
from typing import Any

from django.conf import settings
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError


class ContractViolation(Exception):
    pass


@functools.cache
def _validator(contracts_dir: str, event_type: str, version: int) -> Draft202012Validator | None:
    path = Path(contracts_dir) / "events" / f"{event_type}.v{version}.schema.json"
    if not path.is_file():
        return None
    schema = json.loads(path.read_text())
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def validate_event(envelope: Any) -> None:
    """Raise ContractViolation unless `envelope` is a known event valid against its schema."""
    if not isinstance(envelope, dict):
        raise ContractViolation("event is not a JSON object")
    event_type, version = envelope.get("event_type"), envelope.get("version")
    if not isinstance(event_type, str) or not isinstance(version, int) or isinstance(version, bool):
        raise ContractViolation("event_type/version missing")
    validator = _validator(str(settings.CONTRACTS_DIR), event_type, version)
    if validator is None:
        raise ContractViolation(f"no contract for {event_type} v{version}")
    try:
        validator.validate(envelope)
    except ValidationError as exc:
        raise ContractViolation(f"{event_type}: {exc.message}") from exc
