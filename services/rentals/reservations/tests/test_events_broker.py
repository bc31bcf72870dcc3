"""Reservation events reach RabbitMQ (AMQP_URL) through the outbox relay, valid against their contracts."""

import datetime as dt
import json
import os
import time
import uuid

import pika
import pytest
from core.contracts import validate_event
from outbox.models import OutboxEvent
from outbox.relay import OutboxRelay

from reservations.services import reservation_cancel, reservation_create, reservations_expire_due
from reservations.tests.conftest import T0

AMQP_URL = os.environ.get("AMQP_URL")
pytestmark = [
    pytest.mark.skipif(not AMQP_URL, reason="needs real RabbitMQ: AMQP_URL unset"),
    pytest.mark.django_db(transaction=True),
]


def test_reservation_events_are_published(clock, make_bike):
    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    channel = connection.channel()
    channel.exchange_declare(exchange="rentals.events", exchange_type="topic", durable=True)
    queue = f"test.reservations-probe.{uuid.uuid4().hex}"
    channel.queue_declare(queue=queue, exclusive=True, auto_delete=True)
    channel.queue_bind(queue=queue, exchange="rentals.events", routing_key="reservation.*")
    try:
        user_id = uuid.uuid4()
        reservation_create(user_id=user_id, bike_id=make_bike().id)
        cancelled_bike = make_bike()
        reservation_create(user_id=uuid.uuid4(), bike_id=cancelled_bike.id)
        reservation_cancel(user_id=user_id, bike_id=cancelled_bike.id)  # a stranger: nothing happens
        clock.set(T0 + dt.timedelta(hours=1))
        assert reservations_expire_due() == 2
        relay = OutboxRelay(amqp_url=AMQP_URL)
        relay.connect()
        try:
            while relay.publish_batch():
                pass
        finally:
            relay.close()
        rows = OutboxEvent.objects.filter(event_type__startswith="reservation.")
        expected = {str(e.event_id): e for e in rows}
        assert len(expected) == 4
        received = {}
        deadline = time.monotonic() + 10
        while set(expected) - set(received) and time.monotonic() < deadline:
            method, properties, body = channel.basic_get(queue=queue, auto_ack=True)
            if method is None:
                connection.sleep(0.05)
                continue
            received[properties.message_id] = (method.routing_key, json.loads(body))
        assert set(received) == set(expected)
        for event_id, (routing_key, body) in received.items():
            assert routing_key == body["event_type"] == expected[event_id].event_type
            validate_event(body)
        assert sorted(body["event_type"] for _, body in received.values()) == [
            "reservation.created",
            "reservation.created",
            "reservation.expired",
            "reservation.expired",
        ]
    finally:
        connection.close()
