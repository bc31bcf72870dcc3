"""Hand-written SQL of the agencies app (STYLE.md, convention 9): the per-agency rate budget is one atomic
upsert, which the ORM cannot state (`INSERT … ON CONFLICT DO UPDATE … WHERE … RETURNING`)."""

import uuid

from core import rows
from django.db import connection

from agencies.models import AgencyRateBucket

_BUCKET = rows.table(AgencyRateBucket)
# GCRA (the leaky bucket nginx's limit_req uses) in one statement, so every web process shares one budget per
# agency and concurrent requests serialise on the bucket's row only for that statement: a request is admitted
# when the theoretical arrival time (tat) is at most `burst` intervals ahead of now, and pushes it one
# interval further. No row comes back when it is refused. Time is the database's (one clock for all).
ADMIT = f"""
INSERT INTO {_BUCKET} AS bucket (client_id, tat)
VALUES (%(client_id)s, statement_timestamp() + %(interval)s * interval '1 second')
ON CONFLICT (client_id) DO UPDATE
   SET tat = greatest(bucket.tat, statement_timestamp()) + %(interval)s * interval '1 second'
 WHERE bucket.tat - statement_timestamp() <= %(burst)s * %(interval)s * interval '1 second'
RETURNING 1
"""  # noqa: S608 (the table name comes from the model)
WAIT = f"""
SELECT extract(epoch FROM tat - statement_timestamp()) - %(burst)s * %(interval)s
  FROM {_BUCKET} WHERE client_id = %(client_id)s
"""  # noqa: S608


def rate_admit(*, client_id: uuid.UUID, interval_seconds: float, burst: int) -> float | None:
    """None when admitted (and counted), else how many seconds the bucket is past its burst."""
    params = {"client_id": client_id, "interval": interval_seconds, "burst": burst}
    with connection.cursor() as cursor:
        cursor.execute(ADMIT, params)
        if cursor.fetchone() is not None:
            return None
        cursor.execute(WAIT, params)
        row = cursor.fetchone()
    return float(row[0]) if row else 0.0
