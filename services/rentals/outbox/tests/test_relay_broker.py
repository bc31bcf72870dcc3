"""Against the real RabbitMQ from AMQP_URL: publisher confirms, routing, message properties, shutdown."""

import json
import os
import threading
import time
import uuid

import pika
import pytest
from core.amqp import StopFlag
from core.contracts import validate_event
from rentals.services import rental_finish, rental_start

from outbox.models import OutboxEvent
from outbox.relay import OutboxRelay

AMQP_URL = os.environ.get("AMQP_URL")
pytestmark = [
    pytest.mark.skipif(not AMQP_URL, reason="needs real RabbitMQ: AMQP_URL unset"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def probe_queue():
    """A private queue bound to rentals.events that sees every event the relay publishes."""
    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    channel = connection.channel()
    channel.exchange_declare(exchange="rentals.events", exchange_type="topic", durable=True)
    name = f"test.rentals-probe.{uuid.uuid4().hex}"
    channel.queue_declare(queue=name, exclusive=True, auto_delete=True)
    channel.queue_bind(queue=name, exchange="rentals.events", routing_key="rental.*")

    def drain(expected_ids: set[str], timeout: float = 10.0) -> dict[str, tuple]:
        found: dict[str, tuple] = {}
        deadline = time.monotonic() + timeout
        while expected_ids - set(found) and time.monotonic() < deadline:
            method, properties, body = channel.basic_get(queue=name, auto_ack=True)
            if method is None:
                connection.sleep(0.05)
                continue
            if properties.message_id in expected_ids:
                found[properties.message_id] = (method, properties, json.loads(body))
        return found

    yield drain
    connection.close()


def _rent_and_finish(bike):
    user_id = uuid.uuid4()
    rental = rental_start(user_id=user_id, user_email="ada@example.com", user_name="Ada", bike_id=bike.id)
    rental_finish(user_id=user_id, rental_id=rental.id)


def test_relay_publishes_with_confirms_and_marks_rows(bike, tariff, probe_queue):
    _rent_and_finish(bike)
    relay = OutboxRelay(amqp_url=AMQP_URL)
    relay.connect()
    try:
        assert relay.publish_batch() == 2
        assert relay.publish_batch() == 0
    finally:
        relay.close()
    events = list(OutboxEvent.objects.order_by("id"))
    assert all(e.published_at is not None for e in events)
    received = probe_queue({str(e.event_id) for e in events})
    assert len(received) == 2
    for event in events:
        method, properties, body = received[str(event.event_id)]
        assert method.routing_key == event.event_type
        assert properties.content_type == "application/json"
        assert properties.delivery_mode == 2
        assert body == event.payload
        validate_event(body)


def test_relay_loop_publishes_and_stops_cleanly(bike, tariff, probe_queue):
    stop = StopFlag()
    relay = OutboxRelay(amqp_url=AMQP_URL, stop=stop)
    thread = threading.Thread(target=relay.run)
    thread.start()
    try:
        _rent_and_finish(bike)
        ids = {str(e.event_id) for e in OutboxEvent.objects.all()}
        assert len(probe_queue(ids)) == 2
    finally:
        stop.stop()
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert not OutboxEvent.objects.filter(published_at__isnull=True).exists()


def test_relay_keeps_rows_while_broker_is_unreachable_and_stops_on_request(bike, tariff):
    _rent_and_finish(bike)
    stop = StopFlag()
    relay = OutboxRelay(amqp_url="amqp://guest:guest@127.0.0.1:1/%2F", stop=stop)
    thread = threading.Thread(target=relay.run)
    thread.start()
    time.sleep(1.5)  # a few reconnect attempts with backoff
    stop.stop()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert OutboxEvent.objects.filter(published_at__isnull=True).count() == 2


def test_relay_is_woken_by_notify_instead_of_waiting_for_its_poll(bike, tariff, probe_queue):
    stop = StopFlag()
    relay = OutboxRelay(amqp_url=AMQP_URL, stop=stop)
    relay.poll_seconds = 3600  # the fallback poll cannot be what delivers the events below
    thread = threading.Thread(target=relay.run)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not relay.listener.listening and time.monotonic() < deadline:
            time.sleep(0.05)
        assert relay.listener.listening
        _rent_and_finish(bike)
        ids = {str(e.event_id) for e in OutboxEvent.objects.all()}
        assert len(probe_queue(ids, timeout=30)) == 2
    finally:
        stop.stop()
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert not OutboxEvent.objects.filter(published_at__isnull=True).exists()
