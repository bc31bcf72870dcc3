"""RabbitMQ names (docs/ARCHITECTURE.md, "Events") and their kombu declarations."""

from __future__ import annotations

import os

import amqp
from kombu import Exchange, Queue

# Tests run a real worker beside a possibly running stack on the same broker: BILLING_AMQP_NAMESPACE
# (unset in every deployment) suffixes every exchange and queue name so the two never share messages.
NAMESPACE = os.environ.get("BILLING_AMQP_NAMESPACE", "").strip()


def _name(base: str) -> str:
    return f"{base}.{NAMESPACE}" if NAMESPACE else base


RENTALS_EVENTS_EXCHANGE = _name("rentals.events")
BILLING_EVENTS_EXCHANGE = _name("billing.events")
RENTAL_FINISHED_ROUTING_KEY = "rental.finished"
RENTAL_FINISHED_QUEUE = _name("billing.rental-finished")
DEAD_LETTER_EXCHANGE = _name("billing.dlx")
DEAD_LETTER_QUEUE = _name("billing.rental-finished.dlq")
TASKS_QUEUE = _name("billing.tasks")
# A message redelivered this often (e.g. it kept killing the consumer) is dead-lettered by RabbitMQ itself.
DELIVERY_LIMIT = 20

rentals_events = Exchange(RENTALS_EVENTS_EXCHANGE, type="topic", durable=True)
billing_events = Exchange(BILLING_EVENTS_EXCHANGE, type="topic", durable=True)
dead_letter_exchange = Exchange(DEAD_LETTER_EXCHANGE, type="topic", durable=True)
tasks_exchange = Exchange(TASKS_QUEUE, type="direct", durable=True)

rental_finished_queue = Queue(
    RENTAL_FINISHED_QUEUE,
    exchange=rentals_events,
    routing_key=RENTAL_FINISHED_ROUTING_KEY,
    durable=True,
    queue_arguments={
        "x-queue-type": "quorum",
        "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
        "x-delivery-limit": DELIVERY_LIMIT,
    },
)
dead_letter_queue = Queue(
    DEAD_LETTER_QUEUE,
    exchange=dead_letter_exchange,
    routing_key="#",
    durable=True,
    queue_arguments={"x-queue-type": "quorum"},
)
# Celery's own task queue (classic: countdown retries are held by the worker, which quorum queues
# would only allow through Celery's native delayed delivery machinery).
tasks_queue = Queue(TASKS_QUEUE, exchange=tasks_exchange, routing_key=TASKS_QUEUE, durable=True)

# (name, type) of the exchanges the pika publisher declares before publishing.
PUBLISHER_EXCHANGES = (
    (BILLING_EVENTS_EXCHANGE, "topic"),
    (DEAD_LETTER_EXCHANGE, "topic"),
)


def topology_declare(channel):
    """Declare exchanges, queues and bindings idempotently on a kombu (py-amqp) channel; returns the
    channel to go on with (a refused declaration closes a channel, the next one is opened on its
    connection).

    ``rentals.events`` belongs to rentals (which declares it, as do the broker definitions of compose and
    the local stack); billing's broker user may only read it (to bind its queue). So it is declared
    passively, and actively only when it does not exist yet, which a least-privilege user is refused (the
    consumer then retries with backoff until rentals has declared it)."""
    try:
        rentals_events.bind(channel).declare(passive=True)
    except amqp.exceptions.NotFound:
        channel = channel.connection.channel()
        rentals_events.bind(channel).declare()
    for exchange in (billing_events, dead_letter_exchange):
        exchange.bind(channel).declare()
    dead_letter_queue.bind(channel).declare()
    # Not .declare(): that also declares the queue's exchange (rentals.events) actively.
    queue = rental_finished_queue.bind(channel)
    queue.queue_declare()
    queue.queue_bind()
    return channel
