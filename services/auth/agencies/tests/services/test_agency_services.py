"""Revoking an agency client records agency_client.revoked in the outbox, in the revoking transaction and
only on the change (rentals refuses the client's unexpired tokens once it applied the event)."""

import uuid

import pytest
from django.conf import settings
from django.db import transaction
from outbox.models import OutboxEvent

from agencies.models import AgencyClient
from agencies.services import agency_client_create, agency_client_revoke

pytestmark = pytest.mark.django_db


def test_revoking_records_one_event_matching_the_contract(contract_validate):
    client, _ = agency_client_create(name="City of Leipzig")
    assert not OutboxEvent.objects.exists()  # creating a client is nobody else's business

    revoked = agency_client_revoke(client_id=client.id)
    agency_client_revoke(client_id=client.id)  # already revoked: no second event

    event = OutboxEvent.objects.get()
    assert event.event_type == "agency_client.revoked"
    contract_validate(event.payload)
    assert event.payload["producer"] == "auth"
    assert event.payload["data"] == {
        "client_id": str(client.id),
        "provider_id": settings.MDS_PROVIDER_ID,
        "revoked_at": revoked.revoked_at.isoformat().replace("+00:00", "Z"),
    }


def test_the_event_is_written_in_the_revoking_transaction():
    client, _ = agency_client_create(name="City of Halle", provider_id=uuid.uuid4())
    with pytest.raises(RuntimeError), transaction.atomic():
        agency_client_revoke(client_id=client.id)
        assert OutboxEvent.objects.count() == 1
        raise RuntimeError("rolled back")
    assert not OutboxEvent.objects.exists()
    assert AgencyClient.objects.get(id=client.id).is_active
