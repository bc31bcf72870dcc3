"""EventPublisher and the topology against the real RabbitMQ."""

import json
import os
import uuid

import pika
import pytest

from billing.config import amqp_user
from billing.integrations.amqp import EventPublisher
from billing.tests.real import require_env
from billing.topology import rental_finished_queue, topology_declare

pytestmark = require_env("AMQP_URL")


@pytest.fixture
def channel():
    connection = pika.BlockingConnection(pika.URLParameters(os.environ["AMQP_URL"]))
    yield connection.channel()
    connection.close()


def test_confirmed_persistent_publish_with_message_id(channel):
    exchange = f"billing.test.{uuid.uuid4().hex[:8]}"
    publisher = EventPublisher(amqp_url=os.environ["AMQP_URL"], exchanges=((exchange, "topic"),))
    try:
        publisher._open()  # declares the exchange
        queue = channel.queue_declare(queue="", exclusive=True).method.queue
        channel.queue_bind(queue=queue, exchange=exchange, routing_key="invoice.issued")
        event = {"event_id": str(uuid.uuid4()), "event_type": "invoice.issued", "data": {"x": 1}}

        publisher.publish_event(exchange=exchange, event=event)
        # the broker dropped the connection (e.g. missed heartbeats): the next publish reconnects
        publisher._connection.close()
        publisher.publish_event(exchange=exchange, event=event)

        got = []
        for _ in range(50):
            method, props, body = channel.basic_get(queue=queue, auto_ack=True)
            if method:
                got.append((props, body))
            if len(got) == 2:
                break
            channel.connection.sleep(0.05)
        assert len(got) == 2
        props, body = got[0]
        assert json.loads(body) == event
        # Its broker user, which RabbitMQ checks and consumers compare with the producer's.
        assert props.user_id == amqp_user(os.environ["AMQP_URL"])
        assert props.message_id == event["event_id"]
        assert props.delivery_mode == 2
        assert props.content_type == "application/json"
        assert props.type == "invoice.issued"
    finally:
        publisher.close()
        channel.exchange_delete(exchange=exchange)


def test_topology_declares_a_quorum_queue_with_dead_lettering():
    """The production names are declared idempotently (harmless beside a running worker)."""
    from kombu import Connection

    with Connection(os.environ["AMQP_URL"]) as conn:
        channel = conn.channel()
        topology_declare(channel)
        topology_declare(channel)  # idempotent
        ok = channel.queue_declare(queue=rental_finished_queue.name, passive=True)
        assert ok.queue == rental_finished_queue.name
        # Declaring with different arguments would fail: proves the queue carries exactly these arguments.
        rental_finished_queue.bind(channel).declare()
        args = rental_finished_queue.queue_arguments
        assert args["x-queue-type"] == "quorum"
        assert args["x-dead-letter-exchange"].startswith("billing.dlx")
