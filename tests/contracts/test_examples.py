"""Every example in contracts/ validates against its schema; every invalid example does not."""

import json
import pathlib

import pytest
from jsonschema import Draft202012Validator, FormatChecker

CONTRACTS = pathlib.Path(__file__).resolve().parents[2] / "contracts"
SCHEMAS = {p.name.removesuffix(".v1.schema.json"): p for p in (CONTRACTS / "events").glob("*.v1.schema.json")}


def _validator(event_type: str) -> Draft202012Validator:
    schema = json.loads(SCHEMAS[event_type].read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


def _examples(kind: str) -> list[tuple[str, pathlib.Path]]:
    base = CONTRACTS / "examples" / kind if kind == "invalid" else CONTRACTS / "examples"
    return sorted(
        (d.name, f) for d in base.iterdir() if d.is_dir() and d.name != "invalid" for f in d.glob("*.json")
    )


def test_every_event_type_has_a_schema_and_an_example():
    with_examples = {name for name, _ in _examples("valid")}
    assert set(SCHEMAS) == with_examples


@pytest.mark.parametrize(("event_type", "path"), _examples("valid"), ids=lambda v: getattr(v, "name", v))
def test_valid_example_matches_schema(event_type, path):
    message = json.loads(path.read_text())
    assert message["event_type"] == event_type
    errors = list(_validator(event_type).iter_errors(message))
    assert errors == []


@pytest.mark.parametrize(("event_type", "path"), _examples("invalid"), ids=lambda v: getattr(v, "name", v))
def test_invalid_example_is_rejected(event_type, path):
    message = json.loads(path.read_text())
    assert list(_validator(event_type).iter_errors(message)) != []


def test_money_is_integer_minor_units_everywhere():
    for path in SCHEMAS.values():
        text = path.read_text()
        assert '"number"' not in text, f"{path.name} allows floats for a value"
