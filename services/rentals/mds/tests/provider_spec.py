"""Validate answers against the official MDS 2.0 Provider description (contracts/mds-openapi, unmodified):
each response schema of reference/provider.yaml with its $refs into models/ resolved from the files.

Two spots of the official files are read by their evident intent, since jsonschema cannot take them
literally (the files stay as published):
- models/modes/micromobility/event.yaml has `contains: [trip_start, ...]` (a list where a schema belongs):
  read as "contains one of these values".
- models/data-types/vehicle-type-counts.yaml combines `additionalProperties: false` with the pattern `""`,
  which matches every name; jsonschema joins the patterns and treats the empty result as "no pattern", so
  every count would be refused. Names are checked by `propertyNames` (the vehicle types) either way.
- models/{vehicle,event,trip}.yaml end in a `oneOf` over the four modes, whose branches overlap (a bicycle
  with `vehicle_attributes: {model}` or an `available`/`trip_end` event is valid in several modes), so no
  real answer is "valid under exactly one". Such a mode choice is read as "valid under this provider's mode",
  micromobility.
"""

import functools
import re
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from jsonschema import Draft202012Validator, ValidationError, validators
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012


def _root() -> Path:
    root = Path(settings.MDS_OPENAPI_DIR)
    if not (root / "reference" / "provider.yaml").exists():
        pytest.fail(f"MDS OpenAPI description not found at {root}")
    return root


@functools.cache
def _registry_and_base() -> tuple[Registry, str]:
    root = _root()

    def retrieve(uri: str) -> Resource:
        path = Path(uri.removeprefix("file://"))
        return Resource.from_contents(yaml.safe_load(path.read_text()), default_specification=DRAFT202012)

    provider = (root / "reference" / "provider.yaml").resolve()
    return Registry(retrieve=retrieve), provider.as_uri()


def _contains(validator, contains, instance, schema):
    if isinstance(contains, list):
        contains = {"enum": contains}
    yield from Draft202012Validator.VALIDATORS["contains"](validator, contains, instance, schema)


def _additional_properties(validator, additional, instance, schema):
    if not validator.is_type(instance, "object"):
        return
    patterns = list(schema.get("patternProperties", {}))
    extras = [
        name
        for name in instance
        if name not in schema.get("properties", {}) and not any(re.search(p, name) for p in patterns)
    ]
    if additional is False and extras:
        yield ValidationError(f"additional properties not allowed: {extras}")
    elif isinstance(additional, dict):
        for name in extras:
            yield from validator.descend(instance[name], additional, path=name)


MODE = "micromobility"


def _mode_ref(branch) -> str:
    return (
        str(branch.get("$ref", "")) + " " + str(branch.get("title", "")) if isinstance(branch, dict) else ""
    )


def _one_of(validator, one_of, instance, schema):
    refs = [_mode_ref(branch) for branch in one_of]
    if refs and all("modes/" in ref for ref in refs):
        (branch,) = [b for b, ref in zip(one_of, refs, strict=True) if f"modes/{MODE}" in ref]
        yield from validator.descend(instance, branch)
        return
    yield from Draft202012Validator.VALIDATORS["oneOf"](validator, one_of, instance, schema)


ProviderValidator = validators.extend(
    Draft202012Validator,
    {"contains": _contains, "additionalProperties": _additional_properties, "oneOf": _one_of},
)


def _pointer(*parts: str) -> str:
    return "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


def provider_validator(
    path: str, status: int = 200, content: str = "application/json"
) -> Draft202012Validator:
    registry, base = _registry_and_base()
    pointer = _pointer("paths", path, "get", "responses", str(status), "content", content, "schema")
    ref = f"{base}#/{pointer}"
    return ProviderValidator(
        {"$ref": ref}, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def assert_valid(path: str, body, status: int = 200, content: str = "application/json") -> None:
    validator = provider_validator(path, status, content)
    errors = sorted(validator.iter_errors(body), key=lambda error: list(error.absolute_path))
    assert not errors, "\n".join(
        f"{list(error.absolute_path)}: {error.message[:300]}" for error in errors[:5]
    )


def provider_paths() -> set[str]:
    spec = yaml.safe_load((_root() / "reference" / "provider.yaml").read_text())
    return set(spec["paths"])
