"""The state and event-type table is the official MDS 2.0 micromobility one, read from the model files."""

import uuid
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.utils import timezone

from vehicle_events.services import EVENT_TYPES_BY_STATE, event_type_for, vehicle_state_for


def _micromobility_event_model() -> dict:
    path = Path(settings.MDS_OPENAPI_DIR) / "models" / "modes" / "micromobility" / "event.yaml"
    if not path.exists():
        pytest.skip(f"MDS OpenAPI description not found at {path}")
    return yaml.safe_load(path.read_text())


def test_event_types_by_state_match_the_official_model():
    official = {
        option["properties"]["vehicle_state"]["const"]: frozenset(
            option["properties"]["event_types"]["items"]["enum"]
        )
        for option in _micromobility_event_model()["oneOf"]
    }
    for state, types in EVENT_TYPES_BY_STATE.items():
        assert official[state] == types, state


@pytest.mark.parametrize(
    ("status", "condition", "state"),
    [
        ("available", "ok", "available"),
        ("reserved", "ok", "reserved"),
        ("rented", "ok", "on_trip"),
        ("rented", "broken", "on_trip"),
        ("maintenance", "ok", "non_operational"),
        ("available", "needs_check", "non_operational"),
        ("available", "broken", "non_operational"),
        ("available", "in_repair", "removed"),
        ("available", "missing", "missing"),
        ("rented", "missing", "missing"),
        ("retired", "ok", "removed"),
    ],
)
def test_vehicle_state_for(status, condition, state):
    assert vehicle_state_for(status=status, condition=condition) == state


def test_event_type_falls_back_to_unspecified():
    assert event_type_for(state="on_trip", preferred=("trip_end",)) == "unspecified"
    preferred = ("maintenance_pick_up", "maintenance")
    assert event_type_for(state="available", preferred=preferred) == "maintenance"


def test_an_event_row_gives_every_column_of_the_model():
    from vehicle_events.queries import COLUMNS
    from vehicle_events.services import _row

    row = _row(
        device_id=uuid.uuid4(),
        status="available",
        condition="ok",
        preferred=("trip_end",),
        timestamp=timezone.now(),
        lat=None,
        lon=None,
        trip_id=None,
        recorded_at=timezone.now(),
    )
    assert set(row) == set(COLUMNS)
