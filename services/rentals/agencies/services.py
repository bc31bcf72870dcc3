"""What rentals keeps about agency clients of the MDS Provider API: the revoked ones (from auth's events) and
each client's rate budget."""

import datetime as dt
import uuid

from django.db import transaction

from agencies import queries
from agencies.models import RevokedAgencyClient


@transaction.atomic
def agency_client_revoked_record(
    *, client_id: uuid.UUID, provider_id: uuid.UUID, revoked_at: dt.datetime
) -> RevokedAgencyClient:
    """Apply `agency_client.revoked`; idempotent (a redelivery keeps the first row)."""
    revoked, _ = RevokedAgencyClient.objects.get_or_create(
        client_id=client_id, defaults={"provider_id": provider_id, "revoked_at": revoked_at}
    )
    return revoked


def agency_request_admit(*, client_id: uuid.UUID, rate_per_second: float, burst: int) -> float:
    """Count one request of an agency client against `rate_per_second` with bursts of `burst` more requests;
    returns 0 when admitted, else the seconds until a request would be (nothing counted then)."""
    wait = queries.rate_admit(client_id=client_id, interval_seconds=1.0 / rate_per_second, burst=burst)
    return 0.0 if wait is None else max(wait, 0.001)
