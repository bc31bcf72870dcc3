"""Relay behaviour with a fake channel (the real broker is covered in test_relay_rabbitmq.py)."""

import threading
import uuid

import pytest
from django.db import connection, transaction

from outbox.models import OutboxEvent
from outbox.relay import OutboxRelay, amqp_user, outbox_publish_pending
from outbox.services import outbox_event_record


class FakeChannel:
    def __init__(self, fail_on: int | None = None) -> None:
        self.published: list[tuple[str, str, bytes, object]] = []
        self.fail_on = fail_on

    def basic_publish(self, *, exchange, routing_key, body, properties):
        if self.fail_on is not None and len(self.published) == self.fail_on:
            raise ConnectionError("broker went away")
        self.published.append((exchange, routing_key, body, properties))


def _record(n: int) -> list[OutboxEvent]:
    return [
        outbox_event_record(
            event_type="user.reactivated", data={"user_id": str(uuid.uuid4()), "reactivated_at": "x"}
        )
        for _ in range(n)
    ]


@pytest.mark.django_db
def test_publishes_in_order_with_contract_properties():
    events = _record(3)
    channel = FakeChannel()
    assert outbox_publish_pending(channel=channel, exchange="auth.events") == 3
    assert [p[1] for p in channel.published] == ["user.reactivated"] * 3
    props = channel.published[0][3]
    assert props.content_type == "application/json"
    assert props.delivery_mode == 2
    assert props.message_id == str(events[0].id)
    assert not OutboxEvent.objects.filter(published_at__isnull=True).exists()
    assert outbox_publish_pending(channel=channel, exchange="auth.events") == 0


@pytest.mark.django_db
def test_publishes_carry_the_relays_broker_user_as_user_id():
    _record(2)
    channel = FakeChannel()
    user = amqp_user("amqp://auth:secret@rabbitmq:5672/%2F")
    assert user == "auth"
    assert outbox_publish_pending(channel=channel, exchange="auth.events", user_id=user) == 2
    assert {p[3].user_id for p in channel.published} == {"auth"}


@pytest.mark.django_db
def test_a_failure_mid_batch_keeps_the_confirmed_rows_marked():
    events = _record(3)
    with pytest.raises(ConnectionError):
        outbox_publish_pending(channel=FakeChannel(fail_on=1), exchange="auth.events")
    published = set(OutboxEvent.objects.filter(published_at__isnull=False).values_list("id", flat=True))
    assert published == {events[0].id}
    assert OutboxEvent.objects.get(id=events[1].id).attempts == 1


@pytest.mark.django_db(transaction=True)
def test_rows_locked_by_another_relay_are_skipped():
    events = _record(2)
    locked = threading.Event()
    release = threading.Event()

    def other_relay() -> None:
        with transaction.atomic():
            list(OutboxEvent.objects.select_for_update().filter(id=events[0].id))
            locked.set()
            release.wait(10)
        connection.close()

    thread = threading.Thread(target=other_relay)
    thread.start()
    assert locked.wait(10)
    channel = FakeChannel()
    try:
        assert outbox_publish_pending(channel=channel, exchange="auth.events") == 1
    finally:
        release.set()
        thread.join(10)
    assert channel.published[0][3].message_id == str(events[1].id)


@pytest.mark.django_db
def test_run_retries_with_backoff_while_the_broker_is_down_and_stops_cleanly():
    waits: list[float] = []
    relay: OutboxRelay

    def fake_sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 5:
            relay.stop()

    relay = OutboxRelay(amqp_url="amqp://guest:guest@127.0.0.1:1/%2F", sleep=fake_sleep, max_backoff=2.0)
    relay.run()  # returns only because stop() was called
    assert waits == [0.5, 1.0, 2.0, 2.0, 2.0]
