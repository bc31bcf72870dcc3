"""The consumer loop against the real RabbitMQ from AMQP_URL, on a private copy of the inbox topology
(so a running dev consumer never steals these messages and the real DLQ stays clean)."""

import datetime as dt
import json
import os
import threading
import time
import uuid

import pika
import pytest
from core.amqp import StopFlag, amqp_user
from django.utils import timezone
from fleet.models import Bike
from rentals.models import Rental
from wallets.models import LedgerEntry, Wallet

from inbox.consumers import QUEUE, InboxConsumer, declare_topology

AMQP_URL = os.environ.get("AMQP_URL")
pytestmark = [
    pytest.mark.skipif(not AMQP_URL, reason="needs real RabbitMQ: AMQP_URL unset"),
    pytest.mark.django_db(transaction=True),
]


def test_real_inbox_topology_declares_idempotently():
    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    try:
        channel = connection.channel()
        # On a fresh broker the producers' exchanges do not exist yet: the first passive declaration closes
        # the channel and declare_topology goes on with a new one, which it returns.
        channel = declare_topology(channel)
        channel = declare_topology(channel)
        channel.queue_declare(queue=QUEUE, passive=True)
        channel.queue_declare(queue="rentals.inbox.dlq", passive=True)
    finally:
        connection.close()


def test_consumer_applies_invoice_once_and_dead_letters_garbage_and_foreign_publishers(
    tariff, station, contract_examples, settings
):
    # The test publishes as AMQP_URL's user; here that user is billing's (RabbitMQ checks user_id).
    settings.AMQP_PRODUCER_USERS = {**settings.AMQP_PRODUCER_USERS, "billing": amqp_user(AMQP_URL)}
    suffix = uuid.uuid4().hex
    topology = {
        "queue": f"test.rentals.inbox.{suffix}",
        "dead_letter_exchange": f"test.rentals.dlx.{suffix}",
        "dead_letter_queue": f"test.rentals.inbox.dlq.{suffix}",
    }
    _, message = contract_examples("invoice.issued")[0]
    data = message["data"]
    bike = Bike.objects.create(number="B-broker", model="m", station=station)
    ended = timezone.now() - dt.timedelta(minutes=5)
    Rental.objects.create(
        id=data["rental_id"],
        user_id=data["user_id"],
        user_email="ada@example.com",
        user_name="Ada",
        bike=bike,
        bike_number=bike.number,
        status="finished",
        started_at=ended - dt.timedelta(seconds=1390),
        ended_at=ended,
        duration_seconds=1390,  # the example invoice's 700 with the conftest tariff
        tariff=tariff,
        tariff_snapshot=tariff.snapshot(),
    )
    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    channel = connection.channel()
    declare_topology(channel, **topology)
    stop = StopFlag()
    consumer = InboxConsumer(amqp_url=AMQP_URL, stop=stop, topology=topology)
    thread = threading.Thread(target=consumer.run)
    thread.start()
    try:
        signed = pika.BasicProperties(
            content_type="application/json", delivery_mode=2, user_id=amqp_user(AMQP_URL)
        )
        unsigned = pika.BasicProperties(content_type="application/json", delivery_mode=2)
        body = json.dumps(message).encode()
        # Without user_id (RabbitMQ only checks a user_id that is set) it is not billing's: dead-lettered.
        channel.basic_publish(exchange="", routing_key=topology["queue"], body=body, properties=unsigned)
        for payload in (body, body, b"{garbage"):
            channel.basic_publish(exchange="", routing_key=topology["queue"], body=payload, properties=signed)
        dead = []
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and len(dead) < 2:
            method, _, payload = channel.basic_get(queue=topology["dead_letter_queue"], auto_ack=True)
            if method is not None:
                dead.append(payload)
            else:
                connection.sleep(0.1)
        assert dead == [body, b"{garbage"]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not LedgerEntry.objects.exists():
            time.sleep(0.1)
        time.sleep(0.5)  # give the duplicate time to be (not) applied
    finally:
        stop.stop()
        thread.join(timeout=10)
        for queue in (topology["queue"], topology["dead_letter_queue"]):
            channel.queue_delete(queue=queue)
        channel.exchange_delete(exchange=topology["dead_letter_exchange"])
        connection.close()
    assert not thread.is_alive()
    rental = Rental.objects.get(id=data["rental_id"])
    assert rental.billing_status == "billed" and rental.cost_amount == data["amount"]
    assert LedgerEntry.objects.count() == 1
    assert Wallet.objects.get(user_id=data["user_id"]).balance == -data["amount"]
