import datetime as dt
import json
from pathlib import Path

import pytest
from django.conf import settings
from jsonschema import Draft202012Validator

T0 = dt.datetime(2030, 5, 1, 8, 0, tzinfo=dt.UTC)


class Clock:
    """What `reservations.clock.now` returns while the fixture is active."""

    def __init__(self, start: dt.datetime) -> None:
        self.current = start

    def __call__(self) -> dt.datetime:
        return self.current

    def set(self, moment: dt.datetime) -> None:
        self.current = moment


@pytest.fixture
def clock(monkeypatch):
    fake = Clock(T0)
    monkeypatch.setattr("reservations.clock.now", fake)
    return fake


@pytest.fixture
def schema_check():
    """Validate an outbox payload against its contract file directly (independent of outbox_emit)."""

    def _check(payload: dict) -> None:
        path = Path(settings.CONTRACTS_DIR) / "events" / f"{payload['event_type']}.v1.schema.json"
        schema = json.loads(path.read_text())
        Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(payload)

    return _check


def events(event_type: str) -> list[dict]:
    from outbox.models import OutboxEvent

    return [e.payload for e in OutboxEvent.objects.filter(event_type=event_type).order_by("id")]
