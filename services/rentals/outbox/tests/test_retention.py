"""Retention of published outbox rows: batches, never unpublished rows, index-supported, the command."""

import datetime as dt
import uuid

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from idempotency.models import IdempotencyRecord

from outbox.models import OutboxEvent
from outbox.relay import OutboxRelay
from outbox.services import outbox_emit, outbox_prune

pytestmark = pytest.mark.django_db


def _event(*, published_hours_ago: float | None, created_hours_ago: float = 400) -> OutboxEvent:
    event = outbox_emit(
        event_type="rental.started",
        data={
            "rental_id": str(uuid.uuid4()),
            "user_id": str(uuid.uuid4()),
            "bike_id": str(uuid.uuid4()),
            "bike_number": "B0001",
            "started_at": "2026-11-23T12:00:00Z",
            "start_station_id": None,
            "tariff": {
                "id": str(uuid.uuid4()),
                "name": "Standard",
                "unlock_fee": 100,
                "price_per_minute": 25,
                "daily_cap": None,
                "currency": "EUR",
            },
        },
    )
    now = timezone.now()
    published_at = None if published_hours_ago is None else now - dt.timedelta(hours=published_hours_ago)
    OutboxEvent.objects.filter(id=event.id).update(
        created_at=now - dt.timedelta(hours=created_hours_ago), published_at=published_at
    )
    return event


def test_prune_deletes_old_published_rows_oldest_first_in_bounded_batches():
    oldest = _event(published_hours_ago=300)
    older = _event(published_hours_ago=250)
    old = _event(published_hours_ago=200)
    recent = _event(published_hours_ago=1)
    unpublished = _event(published_hours_ago=None, created_hours_ago=1000)
    cutoff = timezone.now() - dt.timedelta(hours=168)

    assert outbox_prune(older_than=cutoff, batch_size=2) == 2
    assert set(OutboxEvent.objects.values_list("id", flat=True)) == {old.id, recent.id, unpublished.id}
    assert {oldest.id, older.id}.isdisjoint(OutboxEvent.objects.values_list("id", flat=True))

    assert outbox_prune(older_than=cutoff, batch_size=2) == 1
    assert outbox_prune(older_than=cutoff, batch_size=2) == 0
    assert set(OutboxEvent.objects.values_list("id", flat=True)) == {recent.id, unpublished.id}


def test_prune_outbox_command_deletes_every_batch_and_keeps_unpublished_rows(capsys):
    for _ in range(5):
        _event(published_hours_ago=200)
    keep = {_event(published_hours_ago=2).id, _event(published_hours_ago=None, created_hours_ago=5000).id}

    call_command("prune_outbox", "--batch-size", "2")
    assert "deleted 5 published outbox event(s) older than 168 h" in capsys.readouterr().out
    assert set(OutboxEvent.objects.values_list("id", flat=True)) == keep

    call_command("prune_outbox", "--hours", "1")
    assert "deleted 1 " in capsys.readouterr().out
    assert OutboxEvent.objects.get().published_at is None


def test_relay_retention_step_prunes_outbox_and_idempotency_records(settings):
    settings.RETENTION_PRUNE_BATCH_SIZE = 2
    for _ in range(3):
        _event(published_hours_ago=200)
    kept_event = _event(published_hours_ago=1)
    for age in (30, 40, 50, 1):
        record = IdempotencyRecord.objects.create(
            owner_id=uuid.uuid4(), key="k", method="POST", path="/api/rentals", fingerprint="f" * 64
        )
        IdempotencyRecord.objects.filter(id=record.id).update(
            created_at=timezone.now() - dt.timedelta(hours=age)
        )
    relay = OutboxRelay(amqp_url="amqp://guest:guest@127.0.0.1:1/%2F")

    assert relay.prune() is True  # full batches: more to do
    relay.prune_if_due()  # due at start: works off the rest and schedules the next pass
    assert relay.prune_due > 0
    assert list(OutboxEvent.objects.values_list("id", flat=True)) == [kept_event.id]
    assert IdempotencyRecord.objects.count() == 1


@pytest.mark.parametrize(
    ("table", "where", "index"),
    [
        ("outbox_outboxevent", "published_at IS NOT NULL AND published_at < now()", "outbox_published_idx"),
        ("idempotency_idempotencyrecord", "created_at < now()", "idempotency_created_idx"),
    ],
)
def test_prune_scans_are_index_supported(table, where, index):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            f"EXPLAIN SELECT id FROM {table} WHERE {where} "
            f"ORDER BY {where.split()[0]} LIMIT 100 FOR UPDATE SKIP LOCKED"
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan, plan
