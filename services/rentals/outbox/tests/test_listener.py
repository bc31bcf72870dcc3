"""NOTIFY outbox_event reaches the relay's listener after a commit, and only then; it is sent by the
application after the commit (core.notify), never by a trigger inside the write transaction."""

import uuid

import pytest
from core.listener import NotificationListener
from django.db import connection, transaction
from django.utils import timezone

from outbox.models import OutboxEvent
from outbox.services import CHANNEL, outbox_emit

pytestmark = pytest.mark.django_db(transaction=True)


def _emit() -> OutboxEvent:
    return outbox_emit(
        event_type="reservation.released",
        data={
            "reservation_id": str(uuid.uuid4()),
            "user_id": str(uuid.uuid4()),
            "bike_id": str(uuid.uuid4()),
            "released_at": "2026-11-23T12:00:00Z",
            "reason": "cancelled",
        },
    )


@pytest.fixture
def listener():
    listener = NotificationListener(channel=CHANNEL)
    listener.listen()
    yield listener
    listener.close()


def test_a_committed_insert_notifies_once_per_transaction(listener):
    with transaction.atomic():
        _emit()
        _emit()
        # Not delivered while the transaction is open.
        assert listener.wait(0.3) is False
    assert listener.wait(10) is True
    assert listener.wait(0.3) is False  # the two inserts were folded into one notification


def test_a_rolled_back_insert_does_not_notify(listener):
    with pytest.raises(RuntimeError), transaction.atomic():
        _emit()
        raise RuntimeError("state change failed")
    assert listener.wait(0.5) is False


def test_no_trigger_notifies_inside_the_write_transaction(listener):
    """Rows written by plain SQL wake nobody (the relay's poll finds them): the notification comes from
    the application once the transaction has committed, not from a trigger holding the notify lock."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_trigger "
            "WHERE tgrelid = 'outbox_outboxevent'::regclass AND NOT tgisinternal"
        )
        assert cursor.fetchone()[0] == 0
        cursor.execute(
            "INSERT INTO outbox_outboxevent (event_id, event_type, exchange, payload, created_at, "
            "published_at, attempts, available_at) VALUES (%s, 'x', 'x', '{}', %s, NULL, 0, %s)",
            [uuid.uuid4(), timezone.now(), timezone.now()],
        )
    assert listener.wait(0.5) is False
    _emit()  # outside a transaction: notified at once
    assert listener.wait(10) is True


def test_a_lost_connection_wakes_the_caller_and_stops_listening(listener):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND query = 'LISTEN outbox_event' "
            "AND pid <> pg_backend_pid()"
        )
    assert listener.wait(10) is True
    assert listener.listening is False


def test_the_relay_lingers_after_a_notification_so_a_busy_moment_is_one_pass(settings):
    from outbox.relay import OutboxRelay

    settings.OUTBOX_RELAY_COALESCE_SECONDS = 0.05
    relay = OutboxRelay(amqp_url="amqp://unused")

    class Woken:
        listening = True

        def wait(self, timeout):
            return True

    slept = []
    relay.listener = Woken()
    relay._sleep = slept.append
    relay._wait_for_events(30)
    assert slept == [0.05]
