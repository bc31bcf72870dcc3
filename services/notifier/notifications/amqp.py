"""pika plumbing of the notifier: connection parameters, its topology, dead-lettering."""

import datetime as dt
import json

import pika
from django.conf import settings

from notifications.topology import BINDINGS, DELIVERY_LIMIT, exchange_name, names


def connection_parameters() -> pika.URLParameters:
    params = pika.URLParameters(settings.AMQP_URL)
    params.heartbeat = 30
    params.blocked_connection_timeout = 30
    params.socket_timeout = 5
    params.connection_attempts = 1
    params.client_properties = {"connection_name": "velo-notifier"}
    return params


def amqp_user() -> str:
    """This process's broker user: the user_id of everything it publishes."""
    return pika.URLParameters(settings.AMQP_URL).credentials.username


def topology_declare(channel) -> None:
    """Idempotent. The producers' exchanges are declared passively (the producers, the local stack and the
    compose definitions create them; the notifier's user may not), except under a test namespace."""
    n = names()
    channel.exchange_declare(exchange=n["dlx"], exchange_type="direct", durable=True)
    for queue, key in ((n["events_dlq"], "events"), (n["deliveries_dlq"], "deliveries")):
        channel.queue_declare(queue=queue, durable=True, arguments={"x-queue-type": "quorum"})
        channel.queue_bind(queue=queue, exchange=n["dlx"], routing_key=key)
    channel.queue_declare(
        queue=n["events_queue"],
        durable=True,
        arguments={
            "x-queue-type": "quorum",
            "x-delivery-limit": DELIVERY_LIMIT,
            "x-dead-letter-exchange": n["dlx"],
            "x-dead-letter-routing-key": "events",
        },
    )
    for exchange, routing_key, _producer in BINDINGS:
        name = exchange_name(exchange)
        passive = not settings.NOTIFIER_AMQP_NAMESPACE
        channel.exchange_declare(exchange=name, exchange_type="topic", durable=True, passive=passive)
        channel.queue_bind(queue=n["events_queue"], exchange=name, routing_key=routing_key)


def dead_letter(channel, *, routing_key: str, body: bytes, headers: dict) -> None:
    """Publish to notifier.dlx (``events`` or ``deliveries``) with the reason in the headers."""
    channel.basic_publish(
        exchange=names()["dlx"],
        routing_key=routing_key,
        body=body,
        properties=pika.BasicProperties(
            content_type="application/json",
            delivery_mode=2,
            user_id=amqp_user(),
            headers=headers | {"x-failed-at": dt.datetime.now(dt.UTC).isoformat()},
        ),
    )


def delivery_dead_letter(*, notification: dict, reason: str) -> None:
    """A message whose retries are exhausted goes to notifier.deliveries.dlq (its row says FAILED)."""
    connection = pika.BlockingConnection(connection_parameters())
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        topology_declare(channel)
        dead_letter(
            channel,
            routing_key="deliveries",
            body=json.dumps(notification, default=str).encode(),
            headers={"x-error": reason[:500]},
        )
    finally:
        connection.close()
