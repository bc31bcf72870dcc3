import uuid

import pytest

from outbox.models import OutboxEvent
from outbox.services import outbox_emit

REACTIVATED_AT = "2026-11-23T10:00:00Z"
pytestmark = pytest.mark.django_db


def test_record_builds_the_contract_envelope(contract_validate):
    user_id = str(uuid.uuid4())
    event = outbox_emit(
        event_type="user.deactivated", data={"user_id": user_id, "deactivated_at": "2026-11-23T10:00:00Z"}
    )
    stored = OutboxEvent.objects.get(event_id=event.event_id)
    assert stored.published_at is None
    assert stored.payload["event_id"] == str(stored.event_id)
    assert stored.exchange == "auth.events"
    assert stored.payload["version"] == 1
    assert stored.payload["producer"] == "auth"
    assert stored.payload["occurred_at"].endswith("Z")
    contract_validate(stored.payload)


def test_record_rolls_back_with_the_surrounding_transaction():
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        outbox_emit(
            event_type="user.reactivated",
            data={"user_id": str(uuid.uuid4()), "reactivated_at": "2026-11-23T10:00:00Z"},
        )
        raise RuntimeError("state change failed")
    assert not OutboxEvent.objects.exists()


def test_emit_refuses_data_that_breaks_the_contract():
    from core.contracts import ContractViolation

    with pytest.raises(ContractViolation):
        outbox_emit(event_type="user.reactivated", data={"user_id": "not-a-uuid"})
    assert not OutboxEvent.objects.exists()


def test_production_writes_events_without_the_schema_check(settings):
    settings.OUTBOX_VALIDATE_ON_EMIT = False
    outbox_emit(event_type="user.reactivated", data={"user_id": "not-a-uuid"})
    assert OutboxEvent.objects.count() == 1
