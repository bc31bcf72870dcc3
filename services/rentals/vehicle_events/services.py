"""The only writer of the vehicle event log. Every service that changes a bike's status, condition or
position calls `vehicle_event_record` (or `vehicle_events_record_many`) in its own transaction;
`vehicle_events/tests/test_coverage.py` lists those services and fails when a new one appears."""

import datetime as dt
import logging
import uuid
from collections.abc import Iterable, Sequence

from django.utils import timezone

from vehicle_events import queries
from vehicle_events.models import VehicleState

logger = logging.getLogger(__name__)

# The event types MDS 2.0 allows for each vehicle state in the micromobility mode
# (models/modes/micromobility/event.yaml; a test compares this table with that file).
EVENT_TYPES_BY_STATE: dict[str, frozenset[str]] = {
    VehicleState.REMOVED: frozenset(
        {
            "agency_pick_up",
            "comms_restored",
            "compliance_pick_up",
            "decommissioned",
            "located",
            "maintenance_pick_up",
            "rebalance_pick_up",
            "unspecified",
        }
    ),
    VehicleState.AVAILABLE: frozenset(
        {
            "agency_drop_off",
            "battery_charged",
            "comms_restored",
            "located",
            "maintenance",
            "on_hours",
            "provider_drop_off",
            "reservation_cancel",
            "system_resume",
            "trip_cancel",
            "trip_end",
            "unspecified",
        }
    ),
    VehicleState.NON_OPERATIONAL: frozenset(
        {
            "battery_low",
            "comms_restored",
            "located",
            "maintenance",
            "off_hours",
            "system_suspend",
            "unspecified",
        }
    ),
    VehicleState.RESERVED: frozenset({"comms_restored", "located", "reservation_start", "unspecified"}),
    VehicleState.ON_TRIP: frozenset(
        {
            "changed_geographies",
            "comms_restored",
            "located",
            "trip_enter_jurisdiction",
            "trip_start",
            "unspecified",
        }
    ),
    VehicleState.MISSING: frozenset({"not_located", "unspecified"}),
}


def vehicle_state_for(*, status: str, condition: str) -> str:
    """The MDS state of a bike from its `status` (trip lifecycle) and `condition` (fitness)."""
    if status == "retired":
        return VehicleState.REMOVED
    if condition == "missing":
        return VehicleState.MISSING
    if status == "rented":
        return VehicleState.ON_TRIP
    if condition == "in_repair":
        return VehicleState.REMOVED
    if condition != "ok" or status == "maintenance":
        return VehicleState.NON_OPERATIONAL
    if status == "reserved":
        return VehicleState.RESERVED
    return VehicleState.AVAILABLE


def event_type_for(*, state: str, preferred: Sequence[str]) -> str:
    """The first of `preferred` that MDS allows in `state`, else `unspecified` (allowed in every state):
    a state change is never refused for want of a fitting event type."""
    allowed = EVENT_TYPES_BY_STATE[state]
    for event_type in preferred:
        if event_type in allowed:
            return event_type
    return "unspecified"


def _row(
    *,
    device_id: uuid.UUID,
    status: str,
    condition: str,
    preferred: Sequence[str],
    timestamp: dt.datetime,
    lat: float | None,
    lon: float | None,
    trip_id: uuid.UUID | None,
    recorded_at: dt.datetime,
) -> dict:
    state = vehicle_state_for(status=status, condition=condition)
    return {
        "event_id": uuid.uuid4(),
        "device_id": device_id,
        "event_type": event_type_for(state=state, preferred=preferred),
        "vehicle_state": str(state),
        "timestamp": timestamp,
        "lat": lat,
        "lon": lon,
        "trip_id": trip_id,
        "recorded_at": recorded_at,
    }


def vehicle_event_record(
    *,
    device_id: uuid.UUID,
    status: str,
    condition: str,
    preferred: Sequence[str],
    lat: float | None,
    lon: float | None,
    timestamp: dt.datetime | None = None,
    trip_id: uuid.UUID | None = None,
) -> None:
    """Append one event for a bike whose new `status`/`condition` are given (call inside the transaction
    that changed them). One plain INSERT: this runs on the rent and finish paths."""
    now = timezone.now()
    row = _row(
        device_id=device_id,
        status=status,
        condition=condition,
        preferred=preferred,
        timestamp=timestamp or now,
        lat=lat,
        lon=lon,
        trip_id=trip_id,
        recorded_at=now,
    )
    queries.events_insert(events=[row])


def vehicle_events_record_many(*, bikes: Iterable, preferred: Sequence[str]) -> int:
    """One event per bike (objects with id, status, condition, lat, lon): e.g. a moved station's bikes."""
    now = timezone.now()
    rows = [
        _row(
            device_id=bike.id,
            status=bike.status,
            condition=bike.condition,
            preferred=preferred,
            timestamp=now,
            lat=bike.lat,
            lon=bike.lon,
            trip_id=None,
            recorded_at=now,
        )
        for bike in bikes
    ]
    return queries.events_insert(events=rows)
