"""NOTIFY from the outbox insert trigger reaches the relay's listener on commit, and only then."""

import uuid

import pytest
from django.db import connection, transaction

from outbox.listener import OutboxListener
from outbox.services import outbox_event_record

pytestmark = pytest.mark.django_db(transaction=True)


def _record() -> None:
    outbox_event_record(event_type="user.reactivated", data={"user_id": str(uuid.uuid4())})


@pytest.fixture
def listener():
    listener = OutboxListener()
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


def test_a_lost_connection_wakes_the_caller_and_stops_listening(listener):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND query = 'LISTEN outbox_event' "
            "AND pid <> pg_backend_pid()"
        )
    assert listener.wait(10) is True
    assert listener.listening is False
