import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection

from outbox.models import OutboxEvent
from outbox.relay import OutboxRelay
from outbox.services import outbox_emit, outbox_prune

REACTIVATED_AT = "2026-11-23T10:00:00Z"
pytestmark = pytest.mark.django_db


def _event(*, published_hours_ago: float | None, created_hours_ago: float = 400) -> OutboxEvent:
    event = outbox_emit(
        event_type="user.reactivated",
        data={"user_id": str(uuid.uuid4()), "reactivated_at": "2026-11-23T10:00:00Z"},
    )
    now = datetime.now(tz=UTC)
    OutboxEvent.objects.filter(id=event.id).update(
        created_at=now - timedelta(hours=created_hours_ago),
        published_at=None if published_hours_ago is None else now - timedelta(hours=published_hours_ago),
    )
    return event


def test_prune_deletes_old_published_rows_oldest_first_in_bounded_batches():
    _event(published_hours_ago=300)
    _event(published_hours_ago=250)
    old = _event(published_hours_ago=200)
    recent = _event(published_hours_ago=1)
    unpublished = _event(published_hours_ago=None, created_hours_ago=1000)
    cutoff = datetime.now(tz=UTC) - timedelta(hours=168)

    assert outbox_prune(older_than=cutoff, batch_size=2) == 2
    assert set(OutboxEvent.objects.values_list("id", flat=True)) == {old.id, recent.id, unpublished.id}
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


def test_relay_retention_step_works_off_a_backlog_one_batch_at_a_time(settings):
    settings.RETENTION_PRUNE_BATCH_SIZE = 2
    for _ in range(3):
        _event(published_hours_ago=200)
    kept = _event(published_hours_ago=1)
    relay = OutboxRelay(amqp_url="amqp://guest:guest@127.0.0.1:1/%2F")

    relay.prune_if_due()
    assert relay.prune_due == 0.0  # a full batch: still due
    assert OutboxEvent.objects.count() == 2
    relay.prune_if_due()
    assert relay.prune_due > 0.0
    assert list(OutboxEvent.objects.values_list("id", flat=True)) == [kept.id]


def test_prune_scan_is_index_supported():
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT id FROM outbox_outboxevent WHERE published_at IS NOT NULL "
            "AND published_at < now() ORDER BY published_at LIMIT 100 FOR UPDATE SKIP LOCKED"
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "outbox_published_idx" in plan, plan
