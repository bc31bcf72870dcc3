"""NOTIFY outbox_event reaches the relay's listener after a commit, and only then; it is sent by the
application after the commit (core.notify), never by a trigger inside the write transaction."""

import uuid

import pytest
from core.listener import NotificationListener
from django.db import connection, transaction

from outbox.services import CHANNEL, outbox_emit

REACTIVATED_AT = "2026-11-23T10:00:00Z"
pytestmark = pytest.mark.django_db(transaction=True)


def _record() -> None:
    outbox_emit(
        event_type="user.reactivated",
        data={"user_id": str(uuid.uuid4()), "reactivated_at": "2026-11-23T10:00:00Z"},
    )


@pytest.fixture
def listener():
    listener = NotificationListener(channel=CHANNEL)
    listener.listen()
    yield listener
    listener.close()


def test_a_committed_insert_notifies_once_per_transaction(listener):
    with transaction.atomic():
        _record()
        _record()
        assert listener.wait(0.3) is False  # not delivered while the transaction is open
    assert listener.wait(10) is True
    assert listener.wait(0.3) is False  # both inserts folded into one notification


def test_a_rolled_back_insert_does_not_notify(listener):
    with pytest.raises(RuntimeError), transaction.atomic():
        _record()
        raise RuntimeError("state change failed")
    assert listener.wait(0.5) is False


def test_no_trigger_notifies_inside_the_write_transaction(listener):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_trigger "
            "WHERE tgrelid = 'outbox_outboxevent'::regclass AND NOT tgisinternal"
        )
        assert cursor.fetchone()[0] == 0
    _record()  # outside a transaction: notified at once, after its own commit
    assert listener.wait(10) is True


def test_a_note_of_a_rolled_back_transaction_only_adds_a_wake_up(listener):
    with pytest.raises(RuntimeError), transaction.atomic():
        _record()
        raise RuntimeError("state change failed")
    assert listener.wait(0.5) is False
    _record()
    assert listener.wait(10) is True
    assert listener.wait(0.3) is False


def test_a_lost_connection_wakes_the_caller_and_stops_listening(listener):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND query = 'LISTEN outbox_event' "
            "AND pid <> pg_backend_pid()"
        )
    assert listener.wait(10) is True
    assert listener.listening is False
