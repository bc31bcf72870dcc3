"""Idempotency-Key on POSTs: the first successful response is stored in the same transaction as the
write, so a retry with the same key and body replays it. A concurrent duplicate blocks on the unique
(owner_id, key) index until the first commits, then replays; if the first failed, nothing was stored
and the duplicate runs for real.

Records are kept for IDEMPOTENCY_RETENTION_HOURS (the replay window) and then pruned in batches by the
outbox relay or `manage.py prune_idempotency`; a retry after the window may run again."""

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any

from core.exceptions import Conflict, IdempotencyKeyReused, ValidationFailed
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction

from idempotency import queries
from idempotency.models import IdempotencyRecord

MAX_KEY_LENGTH = 255


def request_fingerprint(*, method: str, path: str, payload: Any) -> str:
    canonical = json.dumps(
        {"method": method, "path": path, "body": payload}, sort_keys=True, cls=DjangoJSONEncoder
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotent_call(
    *,
    owner_id: uuid.UUID,
    key: str | None,
    method: str,
    path: str,
    payload: Any,
    handler: Callable[[], tuple[int, Any]],
) -> tuple[int, Any, bool]:
    """Run `handler` once per (owner, key). Returns (status, body, replayed)."""
    if key is None:
        status, body = handler()
        return status, body, False
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValidationFailed(
            "Invalid Idempotency-Key.",
            errors={"Idempotency-Key": [f"Must be 1 to {MAX_KEY_LENGTH} characters."]},
        )
    fingerprint = request_fingerprint(method=method, path=path, payload=payload)
    with transaction.atomic():
        record = IdempotencyRecord(
            owner_id=owner_id, key=key, method=method, path=path[:500], fingerprint=fingerprint
        )
        with connection.cursor() as cursor:
            claimed = queries.claim(cursor=cursor, record=record)
        if not claimed:
            record = IdempotencyRecord.objects.filter(owner_id=owner_id, key=key).first()
            if record is None:  # pruned (its window had passed) between our insert and this read
                raise Conflict("This Idempotency-Key's record just expired; retry the request.")
            if record.fingerprint != fingerprint:
                raise IdempotencyKeyReused("This Idempotency-Key was used with a different request.")
            if record.response_status is None:
                raise Conflict("A request with this Idempotency-Key is still in progress.")
            return record.response_status, record.response_body, True
        status, body = handler()
        # Stored as encoded here and decoded back, so a replay is byte-for-byte what the first caller saw.
        encoded = json.dumps(body, cls=DjangoJSONEncoder)
        with connection.cursor() as cursor:
            queries.store_response(cursor=cursor, record=record, status=status, encoded_body=encoded)
        return status, json.loads(encoded), False


def idempotency_records_prune(*, older_than: dt.datetime, batch_size: int) -> int:
    """Delete one batch of records created before `older_than`, oldest first; returns how many.

    Uses `idempotency_created_idx`; rows another pruner holds are skipped (SKIP LOCKED).
    """
    with transaction.atomic():
        ids = list(
            IdempotencyRecord.objects.select_for_update(skip_locked=True)
            .filter(created_at__lt=older_than)
            .order_by("created_at")
            .values_list("pk", flat=True)[:batch_size]
        )
        # Delete by primary key list (index scan) rather than `IN (subquery)`, which the planner may
        # answer with a scan of the whole table.
        deleted, _ = IdempotencyRecord.objects.filter(pk__in=ids).delete() if ids else (0, None)
    return deleted
