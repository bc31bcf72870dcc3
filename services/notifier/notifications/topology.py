"""The notifier's RabbitMQ names (docs/ARCHITECTURE.md, "Events"). Its broker user may configure and write
only these (``notifier.*``, Celery's own) and read the producers' exchanges it binds to."""

from django.conf import settings


def _name(base: str) -> str:
    namespace = settings.NOTIFIER_AMQP_NAMESPACE
    return f"{base}.{namespace}" if namespace else base


EVENTS_QUEUE = "notifier.events"
TASKS = "notifier.tasks"
DEAD_LETTER_EXCHANGE = "notifier.dlx"
EVENTS_DLQ = "notifier.events.dlq"
DELIVERIES_DLQ = "notifier.deliveries.dlq"
# A message redelivered this often (it kept killing the consumer) is dead-lettered by RabbitMQ itself.
DELIVERY_LIMIT = 20

# exchange, routing key, producer (a key of AMQP_PRODUCER_USERS): what the notifier listens to.
BINDINGS = [
    ("auth.events", "user.registered", "auth"),
    ("rentals.events", "rental.started", "rentals"),
    ("rentals.events", "rental.finished", "rentals"),
    ("rentals.events", "reservation.created", "rentals"),
    ("rentals.events", "reservation.released", "rentals"),
    ("rentals.events", "reservation.expired", "rentals"),
    ("rentals.events", "wallet.charged", "rentals"),
    ("billing.events", "invoice.issued", "billing"),
]
PRODUCERS = {routing_key: producer for _exchange, routing_key, producer in BINDINGS}


def names() -> dict[str, str]:
    return {
        "events_queue": _name(EVENTS_QUEUE),
        "tasks": _name(TASKS),
        "dlx": _name(DEAD_LETTER_EXCHANGE),
        "events_dlq": _name(EVENTS_DLQ),
        "deliveries_dlq": _name(DELIVERIES_DLQ),
    }


def exchange_name(producer_exchange: str) -> str:
    """A producer's exchange (namespaced in tests like the notifier's own names)."""
    return _name(producer_exchange)
