"""The event consumer: every contract example it consumes parses, other producers' broker users are refused,
and against a real RabbitMQ (a private namespace) an event published to a producer's exchange is applied
once and a poison message is dead-lettered (skipped without AMQP_URL)."""

import json
import os
import threading
import time
import uuid
from pathlib import Path

import pika
import pytest
from conftest import ROOT, envelope
from django.conf import settings as django_settings

from notifications import worker
from notifications.models import InboxEvent
from notifications.topology import BINDINGS, PRODUCERS

CONSUMED = {routing_key for _exchange, routing_key, _producer in BINDINGS}


def _examples():
    for event_type in sorted(CONSUMED):
        yield from sorted((ROOT / "contracts/examples" / event_type).glob("*.json"))


@pytest.mark.parametrize("path", list(_examples()), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_consumed_example_parses(path: Path):
    event = json.loads(path.read_text())
    user = django_settings.AMQP_PRODUCER_USERS[PRODUCERS[event["event_type"]]]
    parsed, reason = worker.event_parse(path.read_bytes(), user)
    assert parsed is not None, reason


@pytest.mark.parametrize("path", sorted((ROOT / "contracts/examples/invalid").glob("*/*.json")))
def test_invalid_examples_are_refused(path: Path):
    assert worker.event_parse(path.read_bytes(), "rentals")[0] is None


def test_an_event_from_another_broker_user_is_refused():
    body = (ROOT / "contracts/examples/invoice.issued/v1-basic.json").read_bytes()
    parsed, reason = worker.event_parse(body, "rentals")
    assert parsed is None and "not billing's broker user" in reason


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not os.environ.get("AMQP_URL"), reason="AMQP_URL unset (source .run/<stack>/env.sh)")
def test_consumer_applies_events_once_and_dead_letters_poison(settings):
    # The administrator user publishes and consumes here; it stands in for every producer.
    settings.AMQP_URL = os.environ["AMQP_URL"]
    admin = pika.URLParameters(settings.AMQP_URL).credentials.username
    settings.AMQP_PRODUCER_USERS = {"auth": admin, "rentals": admin, "billing": admin}
    settings.NOTIFIER_AMQP_NAMESPACE = f"test-{uuid.uuid4().hex[:8]}"
    runner = worker.BackgroundRunner()
    consumer = threading.Thread(target=runner._consume_forever, daemon=True)
    consumer.start()
    connection = pika.BlockingConnection(pika.URLParameters(settings.AMQP_URL))
    channel = connection.channel()
    ns = settings.NOTIFIER_AMQP_NAMESPACE
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # the consumer declares its queue and bindings
            try:
                channel.queue_declare(queue=f"notifier.events.{ns}", passive=True)
                break
            except pika.exceptions.ChannelClosedByBroker:
                channel = connection.channel()
                time.sleep(0.2)
        user_id = str(uuid.uuid4())
        event = envelope(
            "user.registered",
            {
                "user_id": user_id,
                "email": "mq@example.com",
                "name": "MQ",
                "registered_at": "2026-11-23T09:15:00Z",
            },
            producer="auth",
        )
        properties = pika.BasicProperties(
            content_type="application/json", delivery_mode=2, user_id=admin, message_id=event["event_id"]
        )
        for body in (json.dumps(event).encode(), json.dumps(event).encode(), b"{not json"):
            channel.basic_publish(f"auth.events.{ns}", "user.registered", body, properties)
        deadline = time.monotonic() + 20
        dead = None
        while time.monotonic() < deadline and dead is None:
            dead = channel.basic_get(f"notifier.events.dlq.{ns}", auto_ack=True)[2]
            time.sleep(0.2)
        assert dead == b"{not json"
        assert InboxEvent.objects.filter(event_id=event["event_id"]).count() == 1
        from riders.models import Rider

        assert Rider.objects.get(user_id=user_id).email == "mq@example.com"
    finally:
        runner.stopping.set()
        consumer.join(timeout=10)
        for queue in ("notifier.events", "notifier.events.dlq", "notifier.deliveries.dlq"):
            channel.queue_delete(queue=f"{queue}.{ns}")
        for exchange in ("notifier.dlx", "auth.events", "rentals.events", "billing.events"):
            channel.exchange_delete(exchange=f"{exchange}.{ns}")
        connection.close()
