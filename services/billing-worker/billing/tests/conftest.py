from __future__ import annotations

import json
from pathlib import Path

import pytest

from billing.contracts import contracts_dir
from billing.tests.fakes import FakePublisher, FakeStorage

CONTRACTS = contracts_dir()
VALID_RENTAL_FINISHED = sorted((CONTRACTS / "examples" / "rental.finished").glob("*.json"))
INVALID_RENTAL_FINISHED = sorted((CONTRACTS / "examples" / "invalid" / "rental.finished").glob("*.json"))

assert VALID_RENTAL_FINISHED, f"no rental.finished examples under {CONTRACTS}"
assert INVALID_RENTAL_FINISHED, f"no invalid rental.finished examples under {CONTRACTS}"


def load_example(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def basic_event() -> dict:
    return load_example(CONTRACTS / "examples" / "rental.finished" / "v1-basic.json")


@pytest.fixture
def storage() -> FakeStorage:
    return FakeStorage()


@pytest.fixture
def publisher() -> FakePublisher:
    return FakePublisher()


def distinct_examples() -> list[dict]:
    """Every valid rental.finished example, each with a rental (and event) id of its own: the examples
    share one rental, but a batch should hold many."""
    events = []
    for index, path in enumerate(VALID_RENTAL_FINISHED):
        event = load_example(path)
        event["event_id"] = f"10000000-0000-4000-8000-{index:012d}"
        event["data"]["rental_id"] = f"20000000-0000-4000-8000-{index:012d}"
        events.append(event)
    return events


@pytest.fixture
def handed() -> list:
    """The invoices whose receipt (the HTML write) was handed over and run."""
    return []
