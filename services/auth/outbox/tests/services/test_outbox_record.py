import uuid

import pytest

from outbox.models import OutboxEvent
from outbox.services import outbox_event_record

pytestmark = pytest.mark.django_db


def test_record_builds_the_contract_envelope(contract_validate):
    user_id = str(uuid.uuid4())
    event = outbox_event_record(
        event_type="user.deactivated", data={"user_id": user_id, "deactivated_at": "2026-11-23T10:00:00Z"}
    )
    stored = OutboxEvent.objects.get(id=event.id)
    assert stored.published_at is None
    assert stored.payload["event_id"] == str(stored.id)
    assert stored.payload["version"] == 1
    assert stored.payload["producer"] == "auth"
    assert stored.payload["occurred_at"].endswith("Z")
    contract_validate(stored.payload)


def test_record_rolls_back_with_the_surrounding_transaction():
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        outbox_event_record(event_type="user.reactivated", data={"user_id": str(uuid.uuid4())})
        raise RuntimeError("state change failed")
    assert not OutboxEvent.objects.exists()
