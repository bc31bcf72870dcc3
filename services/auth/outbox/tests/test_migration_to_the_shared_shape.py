"""0005 turns auth's former outbox (UUID key) into the shared shape without losing or renumbering events."""

import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from outbox.models import OutboxEvent

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("outbox", "0004_drop_outbox_notify_trigger")]
AFTER = [("outbox", "0005_outbox_shape_as_rentals")]


def _migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


@pytest.fixture
def former_shape():
    _migrate(BEFORE)
    yield
    _migrate(AFTER)  # the current shape again for the other tests


def test_existing_rows_keep_their_event_ids_order_and_state(former_shape):
    later, earlier, published = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with connection.cursor() as cursor:
        for event_id, minutes_ago, is_published in (
            (later, 1, False),
            (earlier, 3, False),
            (published, 5, True),
        ):
            cursor.execute(
                "INSERT INTO outbox_outboxevent (id, event_type, payload, created_at, published_at, attempts)"
                " VALUES (%s, 'user.registered', %s, now() - make_interval(mins => %s),"
                " CASE WHEN %s THEN now() END, %s)",
                [event_id, f'{{"event_id": "{event_id}"}}', minutes_ago, is_published, int(is_published)],
            )

    _migrate(AFTER)

    rows = list(OutboxEvent.objects.order_by("id"))
    assert [row.event_id for row in rows] == [published, earlier, later]  # numbered oldest first
    assert [row.payload["event_id"] for row in rows] == [str(published), str(earlier), str(later)]
    assert [row.published_at is None for row in rows] == [False, True, True]
    assert {row.exchange for row in rows} == {"auth.events"}
    assert all(row.available_at == row.created_at for row in rows)
    newer = OutboxEvent.objects.create(event_type="user.registered", exchange="auth.events", payload={})
    assert newer.id > rows[-1].id  # the key's sequence continues after the numbered rows
