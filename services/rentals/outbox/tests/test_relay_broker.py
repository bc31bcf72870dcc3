"""Against the real RabbitMQ from AMQP_URL: publisher confirms per batch (acks, returns, nacks, a channel
closed mid-batch, re-publishing), routing, message properties, shutdown."""

import json
import os
import threading
import time
import uuid

import pika
import pytest
from core.amqp import StopFlag
from core.contracts import validate_event
from django.utils import timezone
from pika.exceptions import ChannelClosedByBroker, NackError
from rentals.services import rental_finish, rental_start

from outbox.models import OutboxEvent
from outbox.relay import UNROUTABLE_RETRY, OutboxRelay

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


# --- batch confirms: one wait per batch; only what the broker confirmed is marked published ---------------


@pytest.fixture
def broker():
    """A separate connection for the tests' own exchanges and queues; deletes the exchanges it declared."""
    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    channel = connection.channel()
    exchanges: list[str] = []

    def exchange() -> str:
        name = f"test.relay.{uuid.uuid4().hex}"
        channel.exchange_declare(exchange=name, exchange_type="topic", durable=True)
        exchanges.append(name)
        return name

    channel.new_exchange = exchange
    yield channel
    for name in exchanges:
        channel.exchange_delete(exchange=name)
    connection.close()


def _rows(exchange: str, *event_types: str) -> list[OutboxEvent]:
    rows = []
    for event_type in event_types:
        event_id = uuid.uuid4()
        rows.append(
            OutboxEvent.objects.create(
                event_id=event_id,
                event_type=event_type,
                exchange=exchange,
                payload={"event_id": str(event_id), "event_type": event_type, "data": {"n": len(rows)}},
            )
        )
    return rows


def _queue(channel, exchange: str, **arguments) -> str:
    name = channel.queue_declare(queue="", exclusive=True, arguments=arguments or None).method.queue
    channel.queue_bind(queue=name, exchange=exchange, routing_key="#")
    return name


def _drain(channel, queue: str) -> list[str]:
    ids = []
    while True:
        method, properties, _body = channel.basic_get(queue=queue, auto_ack=True)
        if method is None:
            return ids
        ids.append(properties.message_id)


def test_a_full_batch_is_published_in_order_and_confirmed_at_once(broker, settings):
    exchange = broker.new_exchange()
    queue = _queue(broker, exchange)
    rows = _rows(exchange, *["rental.started"] * 7)
    relay = OutboxRelay(amqp_url=AMQP_URL)
    relay.batch_size = 5
    relay.connect()
    try:
        assert relay.publish_batch() == 5  # one batch: the oldest five
        assert relay.channel.unsettled == 0
        assert relay.publish_batch() == 2
        assert relay.publish_batch() == 0
    finally:
        relay.close()
    assert _drain(broker, queue) == [str(row.event_id) for row in rows]
    for row in OutboxEvent.objects.filter(id__in=[r.id for r in rows]):
        assert row.published_at is not None and row.attempts == 1


def test_returned_mandatory_events_are_retried_later_and_the_rest_of_the_batch_is_published(broker):
    exchange = broker.new_exchange()  # no queue bound: every message is unroutable
    started, finished, started_again = _rows(exchange, "rental.started", "rental.finished", "rental.started")
    relay = OutboxRelay(amqp_url=AMQP_URL)
    relay.connect()
    try:
        before = timezone.now()
        assert relay.publish_batch() == 2
        assert relay.publish_batch() == 0  # the returned one waits for UNROUTABLE_RETRY
    finally:
        relay.close()
    for row in (started, started_again):
        row.refresh_from_db()
        assert row.published_at is not None  # not mandatory: confirmed, dropped by the broker
    finished.refresh_from_db()
    assert finished.published_at is None and finished.attempts == 1
    assert finished.available_at >= before + UNROUTABLE_RETRY


def test_nacked_events_stay_unpublished_and_the_batch_raises(broker):
    exchange = broker.new_exchange()
    # The queue takes one message; the broker refuses (nacks) every further publish routed to it.
    queue = _queue(broker, exchange, **{"x-max-length": 1, "x-overflow": "reject-publish"})
    first, second, third = _rows(exchange, "rental.started", "rental.started", "rental.started")
    relay = OutboxRelay(amqp_url=AMQP_URL)
    relay.connect()
    try:
        with pytest.raises(NackError):
            relay.publish_batch()
        assert relay.connection is None  # a refused batch reconnects before the next pass
    finally:
        relay.close()
    rows = {row.id: row for row in OutboxEvent.objects.filter(id__in=[first.id, second.id, third.id])}
    assert rows[first.id].published_at is not None and rows[first.id].attempts == 1
    for row_id in (second.id, third.id):
        assert rows[row_id].published_at is None and rows[row_id].attempts == 0
    assert _drain(broker, queue) == [str(first.event_id)]
    # The refused events go out as the queue has room again, in order.
    relay = OutboxRelay(amqp_url=AMQP_URL)
    relay.connect()
    try:
        with pytest.raises(NackError):
            relay.publish_batch()  # second fits, third is refused again
    finally:
        relay.close()
    assert _drain(broker, queue) == [str(second.event_id)]
    relay = OutboxRelay(amqp_url=AMQP_URL)
    relay.connect()
    try:
        assert relay.publish_batch() == 1
    finally:
        relay.close()
    assert _drain(broker, queue) == [str(third.event_id)]
    assert not OutboxEvent.objects.filter(published_at__isnull=True).exists()


def test_a_batch_cut_short_by_the_broker_keeps_unconfirmed_rows_for_the_next_pass(broker):
    exchange = broker.new_exchange()
    queue = _queue(broker, exchange)
    missing = f"test.relay.missing.{uuid.uuid4().hex}"
    rows = _rows(exchange, "rental.started", "rental.finished") + _rows(missing, "rental.started")
    rows += _rows(exchange, "rental.finished")
    relay = OutboxRelay(amqp_url=AMQP_URL)
    relay.connect()
    relay.declared_exchanges.add(missing)  # publishing to an exchange that does not exist closes the channel
    try:
        with pytest.raises(ChannelClosedByBroker):
            relay.publish_batch()
        assert relay.connection is None
    finally:
        relay.close()
    marked = set(OutboxEvent.objects.filter(published_at__isnull=False).values_list("id", flat=True))
    assert marked <= {rows[0].id, rows[1].id}  # at most what was confirmed before the channel closed
    assert OutboxEvent.objects.get(id=rows[3].id).published_at is None
    # The broken row is fixed by hand; the next pass publishes everything not confirmed (again, possibly).
    OutboxEvent.objects.filter(id=rows[2].id).update(exchange=exchange)
    relay = OutboxRelay(amqp_url=AMQP_URL)
    relay.connect()
    try:
        assert relay.publish_batch() == len(rows) - len(marked)
    finally:
        relay.close()
    assert not OutboxEvent.objects.filter(published_at__isnull=True).exists()
    received = _drain(broker, queue)
    assert set(received) == {str(row.event_id) for row in rows}


def test_a_crash_between_confirm_and_commit_publishes_the_events_again(broker, monkeypatch):
    """At-least-once: confirmed but not yet marked rows are published again (consumers dedupe on the
    message_id, which is the event_id)."""
    exchange = broker.new_exchange()
    queue = _queue(broker, exchange)
    rows = _rows(exchange, "rental.started", "rental.finished")
    relay = OutboxRelay(amqp_url=AMQP_URL)
    relay.connect()
    try:
        settle = relay.channel.take_settled

        def crash():
            settle()
            raise RuntimeError("process died before marking the rows")

        monkeypatch.setattr(relay.channel, "take_settled", crash)
        with pytest.raises(RuntimeError):
            relay.publish_batch()
        monkeypatch.setattr(relay.channel, "take_settled", settle)
        assert not OutboxEvent.objects.filter(published_at__isnull=False).exists()
        assert relay.publish_batch() == 2
    finally:
        relay.close()
    ids = [str(row.event_id) for row in rows]
    assert _drain(broker, queue) == ids + ids
