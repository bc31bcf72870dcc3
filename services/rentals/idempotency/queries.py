"""Hand-written SQL of the Idempotency-Key claim (STYLE.md, convention 9): every keyed POST runs it, and the
ORM's compile of the INSERT and UPDATE cost more than the statements (BENCHMARKS.md, issue 21's per-path
table). Column lists come from the model (`core.rows`)."""

from core import rows

from idempotency.models import IdempotencyRecord

# ON CONFLICT DO NOTHING waits, like a plain INSERT, for a concurrent holder of the key to commit or roll
# back, but needs no savepoint around it to survive the conflict.
CLAIM = rows.insert_statement(
    IdempotencyRecord, exclude=["id"], suffix="ON CONFLICT (owner_id, key) DO NOTHING RETURNING id"
)
STORE_RESPONSE = (
    "UPDATE idempotency_idempotencyrecord SET response_status = %s, response_body = %s::jsonb WHERE id = %s"
)


def claim(*, cursor, record: IdempotencyRecord) -> bool:
    """Insert `record` unless its (owner, key) exists; True (and the record saved, with its id) if new."""
    return rows.insert_returning_id(cursor=cursor, statement=CLAIM, instance=record)


def store_response(*, cursor, record: IdempotencyRecord, status: int, encoded_body: str) -> None:
    """Keep the response (its JSON already encoded, so a replay is byte-for-byte the first answer)."""
    cursor.execute(STORE_RESPONSE, [status, encoded_body, record.id])
