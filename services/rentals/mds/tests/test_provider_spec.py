"""The validator the API tests use does refuse what the official description refuses."""

import copy

import pytest

from mds.tests.provider_spec import provider_validator

EVENT = {
    "provider_id": "9ee69a69-91ba-5999-949d-a1a03f9c4c3b",
    "device_id": "3c9604d6-b5ee-11e8-96f8-529269fb1459",
    "event_id": "3c9604d6-b5ee-11e8-96f8-529269fb1460",
    "vehicle_state": "available",
    "event_types": ["trip_end"],
    "timestamp": 1681855703000,
    "location": {"lat": 52.5, "lng": 13.4},
    "trip_ids": ["3c9604d6-b5ee-11e8-96f8-529269fb1461"],
}


def _events(event) -> dict:
    return {"version": "2.0.0", "events": [event]}


def test_a_valid_event_passes():
    assert provider_validator("/events/historical").is_valid(_events(EVENT))


@pytest.mark.parametrize(
    "change",
    [
        {"timestamp": "2023-04-18T22:08:23Z"},  # not milliseconds
        {"vehicle_state": "on_trip"},  # trip_end is not an on_trip event
        {"event_types": ["service_start"]},  # not a micromobility event type
        {"device_id": "not-a-uuid"},
        {"location": None},
    ],
)
def test_invalid_events_fail(change):
    event = {**copy.deepcopy(EVENT), **change}
    if change.get("location", 0) is None:
        del event["location"]
    assert not provider_validator("/events/historical").is_valid(_events(event))


def test_a_trip_event_with_empty_trip_ids_fails_and_version_must_be_2():
    # The model asks for at least one trip id when a trip event carries `trip_ids` (not that it does).
    event = {**copy.deepcopy(EVENT), "trip_ids": []}
    assert not provider_validator("/events/historical").is_valid(_events(event))
    assert not provider_validator("/events/historical").is_valid({"version": "1.2.0", "events": []})
