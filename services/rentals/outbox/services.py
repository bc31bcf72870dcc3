import uuid
from typing import Any

from core.contracts import validate_event
from django.conf import settings
from django.utils import timezone

from outbox.models import OutboxEvent

PRODUCER = "rentals"


def outbox_emit(*, event_type: str, data: dict[str, Any], exchange: str | None = None) -> OutboxEvent:
    """Write one event; call inside the transaction of the state change it describes."""
    event_id = uuid.uuid4()
    envelope = {
        "event_id": str(event_id),
        "event_type": event_type,
        "version": 1,
        "occurred_at": timezone.now().isoformat().replace("+00:00", "Z"),
        "producer": PRODUCER,
        "data": data,
    }
    validate_event(envelope)
    return OutboxEvent.objects.create(
        event_id=event_id,
        event_type=event_type,
        exchange=exchange or settings.RENTALS_EXCHANGE,
        payload=envelope,
    )
