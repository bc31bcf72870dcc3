"""The official MDS 2.0 Provider description (contracts/mds-openapi, unmodified) as one self-contained OpenAPI
document for schemathesis: every file `$ref` inlined, and the spots a validator cannot take literally read by
their evident intent, as rentals' own tests read them (services/rentals/mds/tests/provider_spec.py):
- `contains` given a list of values (modes/*/event.yaml) means "contains one of these values";
- a `oneOf` over the four modes, whose branches overlap (a bicycle trip_end is valid in several), means "valid
  under this provider's mode", micromobility;
- MDS's versioning section says answers are `application/vnd.mds+json;version=2.0` (what clients must ask
  for), while the responses are documented as `application/json`: the same schema is offered under both.
The copy is written to a temporary file per run; the files under contracts/ stay as published."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2] / "contracts" / "mds-openapi"
PROVIDER = ROOT / "reference" / "provider.yaml"
MODE = "micromobility"
MDS_MEDIA_TYPE = "application/vnd.mds+json"


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def _mode_branch(branches: list) -> Any | None:
    """The micromobility branch when every branch of a oneOf is a mode's model, else None."""
    refs = [b.get("$ref", "") if isinstance(b, dict) else "" for b in branches]
    if refs and all("/modes/" in ref for ref in refs):
        (chosen,) = [b for b, ref in zip(branches, refs, strict=True) if f"/modes/{MODE}/" in ref]
        return chosen
    return None


def _inline(node: Any, base: Path, stack: tuple[Path, ...] = ()) -> Any:
    if isinstance(node, list):
        return [_inline(item, base, stack) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: value for key, value in node.items() if key != "x-stoplight"}
    if "oneOf" in node and (branch := _mode_branch(node["oneOf"])) is not None:
        rest = {key: value for key, value in node.items() if key != "oneOf"}
        node = {**rest, "allOf": [*rest.get("allOf", []), branch]} if rest else branch
    if isinstance(node.get("contains"), list):
        node = {**node, "contains": {"enum": node["contains"]}}
    ref = node.get("$ref")
    if isinstance(ref, str) and not ref.startswith("#"):
        target = (base / ref).resolve()
        if target in stack:
            raise ValueError(f"circular $ref to {target}")
        inlined = _inline(_load(target), target.parent, (*stack, target))
        siblings = {key: _inline(value, base, stack) for key, value in node.items() if key != "$ref"}
        if not siblings:
            return inlined
        return {"allOf": [inlined], **{k: v for k, v in siblings.items() if k not in ("title",)}}
    return {key: _inline(value, base, stack) for key, value in node.items()}


def provider_document() -> dict:
    """provider.yaml with its models inlined and read as described above."""
    document = _inline(_load(PROVIDER), PROVIDER.parent)
    document["security"] = [{"bearer": []}]
    for item in document["paths"].values():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for response in operation["responses"].values():
                content = response.get("content") or {}
                if "application/json" in content and response is not None:
                    content.setdefault(MDS_MEDIA_TYPE, copy.deepcopy(content["application/json"]))
    return document
