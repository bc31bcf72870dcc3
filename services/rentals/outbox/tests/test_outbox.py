import uuid

import pytest
from core.contracts import ContractViolation, validate_event
from rentals.services import rental_finish, rental_start

from outbox.models import OutboxEvent
from outbox.services import outbox_emit

pytestmark = pytest.mark.django_db


def test_emitted_rental_events_match_their_contracts(bike, tariff, other_station):
    user_id = uuid.uuid4()
    rental = rental_start(user_id=user_id, user_email="ada@example.com", user_name="Ada", bike_id=bike.id)
    rental_finish(user_id=user_id, rental_id=rental.id, station_id=other_station.id)
    started, finished = OutboxEvent.objects.order_by("id")
    for event in (started, finished):
        validate_event(event.payload)
        assert event.exchange == "rentals.events"
        assert event.payload["producer"] == "rentals" and event.payload["event_id"] == str(event.event_id)
    data = finished.payload["data"]
    assert data["user_email"] == "ada@example.com" and data["user_name"] == "Ada"
    assert data["bike_number"] == bike.number
    assert data["end_station_id"] == str(other_station.id)
    assert data["tariff"]["unlock_fee"] == 100 and data["tariff"]["daily_cap"] == 2000
    assert data["started_at"].endswith("Z") and data["ended_at"].endswith("Z")


def test_emit_refuses_data_that_breaks_the_contract():
    with pytest.raises(ContractViolation):
        outbox_emit(event_type="rental.started", data={"rental_id": "not-a-uuid"})
    with pytest.raises(ContractViolation):
        outbox_emit(event_type="no.such.event", data={})
    assert not OutboxEvent.objects.exists()


def test_production_writes_events_without_the_schema_check(settings):
    """OUTBOX_VALIDATE_ON_EMIT is off in production (the check cost ~0.5 ms per rent or finish); the
    tests run with it on, so every event a service emits in a test is checked against its contract."""
    settings.OUTBOX_VALIDATE_ON_EMIT = False
    event = outbox_emit(event_type="rental.started", data={"rental_id": "not-a-uuid"})
    stored = OutboxEvent.objects.get(id=event.id)
    assert stored.payload == event.payload
    assert stored.payload["data"] == {"rental_id": "not-a-uuid"}
    assert stored.published_at is None and stored.attempts == 0
    assert stored.event_id == event.event_id and stored.created_at == event.created_at


def test_the_test_settings_check_what_the_services_emit():
    from django.conf import settings

    assert settings.OUTBOX_VALIDATE_ON_EMIT is True
