"""What rentals keeps about agency clients of the MDS Provider API: the revoked ones (from auth's events) and
each client's rate budget."""

import datetime as dt
import uuid

from django.db import connection, transaction

from agencies.models import AgencyRateBucket, RevokedAgencyClient


@transaction.atomic
def agency_client_revoked_record(
    *, client_id: uuid.UUID, provider_id: uuid.UUID, revoked_at: dt.datetime
) -> RevokedAgencyClient:
    """Apply `agency_client.revoked`; idempotent (a redelivery keeps the first row)."""
    revoked, _ = RevokedAgencyClient.objects.get_or_create(
        client_id=client_id, defaults={"provider_id": provider_id, "revoked_at": revoked_at}
    )
    return revoked


_BUCKET = AgencyRateBucket._meta.db_table
# GCRA (the leaky bucket nginx's limit_req uses) in one statement, so every web process shares one budget per
# agency and concurrent requests serialise on the bucket's row only for that statement: a request is admitted
# when the theoretical arrival time (tat) is at most `burst` intervals ahead of now, and pushes it one
# interval further. No row comes back when it is refused. Time is the database's (one clock for all).
_ADMIT = f"""
INSERT INTO {_BUCKET} AS bucket (client_id, tat)
VALUES (%(client_id)s, statement_timestamp() + %(interval)s * interval '1 second')
ON CONFLICT (client_id) DO UPDATE
   SET tat = greatest(bucket.tat, statement_timestamp()) + %(interval)s * interval '1 second'
 WHERE bucket.tat - statement_timestamp() <= %(burst)s * %(interval)s * interval '1 second'
RETURNING 1
"""  # noqa: S608 (the table name comes from the model)
_WAIT = f"""
SELECT extract(epoch FROM tat - statement_timestamp()) - %(burst)s * %(interval)s
  FROM {_BUCKET} WHERE client_id = %(client_id)s
"""  # noqa: S608


def agency_request_admit(*, client_id: uuid.UUID, rate_per_second: float, burst: int) -> float:
    """Count one request of an agency client against `rate_per_second` with bursts of `burst` more requests;
    returns 0 when admitted, else the seconds until a request would be (nothing counted then)."""
    params = {"client_id": client_id, "interval": 1.0 / rate_per_second, "burst": burst}
    with connection.cursor() as cursor:
        cursor.execute(_ADMIT, params)
        if cursor.fetchone() is not None:
            return 0.0
        cursor.execute(_WAIT, params)
        row = cursor.fetchone()
    return max(float(row[0]) if row else 0.0, 0.001)
