"""Least privilege on the real RabbitMQ of the stack: each service's broker user (AUTH_/RENTALS_/
BILLING_AMQP_URL, written by scripts/stack.sh) is refused what belongs to another service, and RabbitMQ
refuses a user_id that is not the publishing connection's user. Also the inbox queue's upgrade path."""

import os
import uuid

import pika
import pytest
from core.amqp import amqp_user
from pika.exceptions import ChannelClosedByBroker

from inbox.consumers import DELIVERY_LIMIT, declare_topology

URLS = {svc: os.environ.get(f"{svc.upper()}_AMQP_URL") for svc in ("auth", "rentals", "billing")}
ADMIN_URL = os.environ.get("AMQP_URL")
per_service_users = pytest.mark.skipif(
    not all(URLS.values()) or len({amqp_user(url) for url in URLS.values()}) < 3,
    reason="needs per-service broker users: AUTH_/RENTALS_/BILLING_AMQP_URL unset or one user",
)


def _publish(url: str, *, exchange: str, routing_key: str, user_id: str | None = None) -> None:
    """A confirmed publish; raises ChannelClosedByBroker when the broker refuses it."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.basic_publish(
            exchange=exchange,
            routing_key=routing_key,
            body=b"{}",
            properties=pika.BasicProperties(message_id=str(uuid.uuid4()), user_id=user_id),
        )
    finally:
        if connection.is_open:
            connection.close()


def _refused(code: int, action) -> None:
    with pytest.raises(ChannelClosedByBroker) as refused:
        action()
    assert refused.value.reply_code == code, refused.value


@per_service_users
@pytest.mark.parametrize(
    ("service", "exchange", "routing_key"),
    [
        ("rentals", "billing.events", "invoice.issued"),
        ("auth", "billing.events", "invoice.issued"),
        ("rentals", "auth.events", "user.reactivated"),
        ("billing", "auth.events", "user.deactivated"),
        ("auth", "rentals.events", "rental.finished"),
        ("billing", "rentals.events", "rental.finished"),
        # the default exchange reaches every queue by name
        ("rentals", "", "rentals.inbox"),
        ("auth", "", "rentals.inbox"),
        ("billing", "", "rentals.inbox"),
    ],
)
def test_a_service_may_not_publish_to_another_services_exchange(service, exchange, routing_key):
    _refused(403, lambda: _publish(URLS[service], exchange=exchange, routing_key=routing_key))


@per_service_users
@pytest.mark.parametrize(
    ("service", "queue"),
    [("auth", "rentals.inbox"), ("billing", "rentals.inbox"), ("rentals", "billing.rental-finished"),
     ("auth", "billing.rental-finished")],
)  # fmt: skip
def test_a_service_may_not_consume_another_services_queue(service, queue):
    connection = pika.BlockingConnection(pika.URLParameters(URLS[service]))
    try:
        _refused(403, lambda: connection.channel().basic_get(queue=queue))
    finally:
        connection.close()


@per_service_users
def test_a_service_may_not_declare_or_delete_another_services_exchange():
    connection = pika.BlockingConnection(pika.URLParameters(URLS["rentals"]))
    try:
        _refused(403, lambda: connection.channel().exchange_delete(exchange="billing.events"))
        _refused(403, lambda: connection.channel().queue_delete(queue="billing.rental-finished"))
    finally:
        connection.close()


@per_service_users
def test_each_service_publishes_to_its_own_exchange_as_itself():
    for service in ("auth", "rentals", "billing"):
        _publish(
            URLS[service],
            exchange=f"{service}.events",
            routing_key="test.nothing",
            user_id=amqp_user(URLS[service]),
        )


@per_service_users
@pytest.mark.parametrize(
    ("service", "claimed"), [("rentals", "billing"), ("auth", "billing"), ("billing", "auth")]
)
def test_the_broker_refuses_a_user_id_other_than_the_connections_user(service, claimed):
    # Even on the service's own exchange: user_id can never name another service.
    _refused(
        406, lambda: _publish(URLS[service], exchange=f"{service}.events", routing_key="x", user_id=claimed)
    )


@pytest.mark.skipif(not ADMIN_URL, reason="needs real RabbitMQ: AMQP_URL unset")
def test_an_inbox_declared_before_the_delivery_limit_keeps_working():
    """An existing queue without x-delivery-limit: redeclaring it with the limit would be refused
    (PRECONDITION_FAILED), so declare_topology falls back to its old arguments (the broker policy
    rentals-inbox supplies the limit); a new queue gets the limit as an argument."""
    suffix = uuid.uuid4().hex
    old = {"queue": f"test.rentals.inbox.{suffix}", "dead_letter_exchange": f"test.rentals.dlx.{suffix}",
           "dead_letter_queue": f"test.rentals.inbox.dlq.{suffix}"}  # fmt: skip
    new = {key: value + ".new" for key, value in old.items()}
    connection = pika.BlockingConnection(pika.URLParameters(ADMIN_URL))
    try:
        channel = connection.channel()
        channel.queue_declare(
            queue=old["queue"],
            durable=True,
            arguments={"x-queue-type": "quorum", "x-dead-letter-exchange": old["dead_letter_exchange"]},
        )
        channel = declare_topology(channel, **old)
        channel = declare_topology(channel, **new)
        channel = declare_topology(channel, **new)  # idempotent
        # Passes only if the new queue carries exactly these arguments.
        channel.queue_declare(
            queue=new["queue"],
            durable=True,
            arguments={"x-queue-type": "quorum", "x-dead-letter-exchange": new["dead_letter_exchange"],
                       "x-delivery-limit": DELIVERY_LIMIT},
        )  # fmt: skip
    finally:
        channel = connection.channel()
        for topology in (old, new):
            channel.queue_delete(queue=topology["queue"])
            channel.queue_delete(queue=topology["dead_letter_queue"])
            channel.exchange_delete(exchange=topology["dead_letter_exchange"])
        connection.close()
