"""rentals.inbox: billing's invoice.issued / billing.reconciliation_requested, auth's user events and its
agency_client.revoked.
Every message is validated against its contract and must carry its producer's broker user as its AMQP
user_id (RabbitMQ guarantees user_id is the publishing connection's user); invalid, foreign, unknown or
unappliable ones are dead-lettered (rentals.dlx → rentals.inbox.dlq), transient database failures are
retried, nothing crashes the loop. RabbitMQ dead-letters a message delivered DELIVERY_LIMIT times."""

import contextlib
import enum
import json
import logging
import time
import uuid
from collections.abc import Callable

import pika
from agencies.services import agency_client_revoked_record
from core.amqp import StopFlag, connection_parameters
from core.contracts import ContractViolation, validate_event
from core.exceptions import ApplicationError
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, transaction
from django.utils.dateparse import parse_datetime
from pika.exceptions import AMQPError, ChannelClosedByBroker
from rentals.services import InvoiceRejected, rental_apply_invoice, rentals_reemit_unbilled
from riders.services import rider_set_deactivated

logger = logging.getLogger(__name__)

QUEUE = "rentals.inbox"
DEAD_LETTER_EXCHANGE = "rentals.dlx"
DEAD_LETTER_QUEUE = "rentals.inbox.dlq"
BINDINGS = [
    ("billing.events", "invoice.issued"),
    ("billing.events", "billing.reconciliation_requested"),
    ("auth.events", "user.deactivated"),
    ("auth.events", "user.reactivated"),
    ("auth.events", "agency_client.revoked"),
]
# Which producer (a key of settings.AMQP_PRODUCER_USERS) may publish each consumed event type.
PRODUCERS = {
    "invoice.issued": "billing",
    "billing.reconciliation_requested": "billing",
    "user.deactivated": "auth",
    "user.reactivated": "auth",
    "agency_client.revoked": "auth",
}
# A message redelivered this often (e.g. it kept killing the consumer) is dead-lettered by RabbitMQ itself
# (quorum queue delivery-limit; billing.rental-finished has the same).
DELIVERY_LIMIT = 20
MAX_BACKOFF_SECONDS = 30.0
DEFAULT_PREFETCH = 64
DEFAULT_BATCH_SIZE = 64
# Once a delivery arrived, how long to wait for more to share its transaction (a burst fills a batch).
COLLECT_SECONDS = 0.01


class Outcome(enum.Enum):
    ACK = "ack"
    DEAD_LETTER = "dead_letter"
    RETRY = "retry"


def _apply_invoice_issued(data: dict) -> None:
    applied = rental_apply_invoice(
        rental_id=uuid.UUID(data["rental_id"]),
        user_id=uuid.UUID(data["user_id"]),
        invoice_id=uuid.UUID(data["invoice_id"]),
        amount=data["amount"],
        currency=data["currency"],
        s3_key=data["s3_key"],
        invoice_number=data.get("invoice_number", ""),
    )
    logger.info("invoice.issued", extra={"rental_id": data["rental_id"], "applied": applied})


def _apply_reconciliation(data: dict) -> None:
    count = rentals_reemit_unbilled(older_than_seconds=data["older_than_seconds"])
    logger.info("reconciliation answered", extra={"reemitted": count})


def _timestamp(value: str):
    parsed = parse_datetime(value)
    if parsed is None or parsed.tzinfo is None:
        raise ContractViolation(f"not an RFC 3339 time: {value!r}")
    return parsed


def _apply_user_deactivated(data: dict) -> None:
    rider_set_deactivated(
        user_id=uuid.UUID(data["user_id"]), deactivated=True, changed_at=_timestamp(data["deactivated_at"])
    )


def _apply_user_reactivated(data: dict) -> None:
    rider_set_deactivated(
        user_id=uuid.UUID(data["user_id"]), deactivated=False, changed_at=_timestamp(data["reactivated_at"])
    )


def _apply_agency_client_revoked(data: dict) -> None:
    agency_client_revoked_record(
        client_id=uuid.UUID(data["client_id"]),
        provider_id=uuid.UUID(data["provider_id"]),
        revoked_at=_timestamp(data["revoked_at"]),
    )
    logger.info("agency client revoked", extra={"client_id": data["client_id"]})


HANDLERS: dict[str, Callable[[dict], None]] = {
    "invoice.issued": _apply_invoice_issued,
    "billing.reconciliation_requested": _apply_reconciliation,
    "user.deactivated": _apply_user_deactivated,
    "user.reactivated": _apply_user_reactivated,
    "agency_client.revoked": _apply_agency_client_revoked,
}


UNCHECKED = object()


def _parse(
    body: bytes, user_id: str | object | None = UNCHECKED
) -> tuple[dict, Callable[[dict], None]] | None:
    """The envelope and its handler, or None (logged) for a message to dead-letter. ``user_id`` is the
    delivery's AMQP user_id property; it must be the broker user of the event type's producer."""
    try:
        envelope = json.loads(body)
        validate_event(envelope)
        handler = HANDLERS.get(envelope["event_type"])
        if handler is None:
            raise ContractViolation(f"unexpected event type {envelope['event_type']}")
    except (ValueError, UnicodeDecodeError, ContractViolation) as exc:
        logger.warning("dead-lettering invalid message", extra={"error": str(exc)})
        return None
    if user_id is not UNCHECKED:
        expected = settings.AMQP_PRODUCER_USERS[PRODUCERS[envelope["event_type"]]]
        if user_id != expected:
            logger.warning(
                "dead-lettering event from an unexpected broker user",
                extra={
                    "event_id": envelope["event_id"],
                    "event_type": envelope["event_type"],
                    "user_id": user_id,
                    "expected_user_id": expected,
                },
            )
            return None
    return envelope, handler


def _apply(envelope: dict, handler: Callable[[dict], None]) -> Outcome:
    """Run one handler. Every handler's service is one ``transaction.atomic`` (a savepoint inside a batch's
    transaction), so an unappliable message undoes only its own writes. Database trouble propagates."""
    context = {"event_id": envelope["event_id"], "event_type": envelope["event_type"]}
    try:
        handler(envelope["data"])
    except (OperationalError, InterfaceError):
        raise
    except (InvoiceRejected, ApplicationError, ContractViolation, ValueError, KeyError) as exc:
        logger.warning("dead-lettering unappliable message", extra={**context, "error": str(exc)})
        return Outcome.DEAD_LETTER
    except Exception:
        logger.exception("dead-lettering message after unexpected error", extra=context)
        return Outcome.DEAD_LETTER
    return Outcome.ACK


def handle_message(body: bytes, *, user_id: str | object | None = UNCHECKED) -> Outcome:
    """Decide the fate of one message; safe to call twice with the same message."""
    return handle_batch([body], user_ids=None if user_id is UNCHECKED else [user_id])[0]


def _lock_order(envelope: dict) -> tuple:
    """Invoices first, by rider then rental: every batch takes its rental and wallet row locks in one
    global order, so concurrent batches wait for each other instead of deadlocking."""
    if envelope["event_type"] == "invoice.issued":
        data = envelope["data"]
        return (0, str(data.get("user_id")), str(data.get("rental_id")))
    return (1, "", "")


def handle_batch(bodies: list[bytes], *, user_ids: list[str | None] | None = None) -> list[Outcome]:
    """Decide the fate of a batch of messages in one database transaction (one commit for all); an
    unappliable message is rolled back to its own savepoint and dead-lettered without touching the others.
    Database trouble (including a deadlock) rolls back the whole batch: every valid message is RETRY.
    ``user_ids``: each delivery's AMQP user_id (the consumer always passes them; None skips the producer
    check, for callers that apply events they did not get from the broker). Safe to call twice."""
    outcomes: list[Outcome] = [Outcome.DEAD_LETTER] * len(bodies)
    valid = []
    for index, body in enumerate(bodies):
        parsed = _parse(body) if user_ids is None else _parse(body, user_ids[index])
        if parsed is not None:
            valid.append((index, *parsed))
    if not valid:
        return outcomes
    valid.sort(key=lambda item: _lock_order(item[1]))
    applied: dict[int, Outcome] = {}
    try:
        with transaction.atomic():
            for index, envelope, handler in valid:
                applied[index] = _apply(envelope, handler)
    except (OperationalError, InterfaceError) as exc:
        logger.warning(
            "database unavailable, messages will be retried", extra={"count": len(valid), "error": repr(exc)}
        )
        close_old_connections()
        for index, _, _ in valid:
            outcomes[index] = Outcome.RETRY
        return outcomes
    for index, outcome in applied.items():
        outcomes[index] = outcome
    return outcomes


def declare_topology(
    channel,
    *,
    queue: str = QUEUE,
    dead_letter_exchange: str = DEAD_LETTER_EXCHANGE,
    dead_letter_queue: str = DEAD_LETTER_QUEUE,
):
    """Idempotent: the producers' exchanges, the quorum inbox with its dead-letter queue, and the bindings.
    Returns the channel to go on with (a refused declaration closes a channel; the next one is opened on
    the same connection)."""
    if queue == QUEUE:  # test topologies get messages straight from the default exchange
        for exchange in sorted({exchange for exchange, _ in BINDINGS}):
            channel = _producer_exchange_ensure(channel, exchange)
    channel.exchange_declare(exchange=dead_letter_exchange, exchange_type="fanout", durable=True)
    channel.queue_declare(queue=dead_letter_queue, durable=True, arguments={"x-queue-type": "quorum"})
    channel.queue_bind(queue=dead_letter_queue, exchange=dead_letter_exchange)
    arguments = {"x-queue-type": "quorum", "x-dead-letter-exchange": dead_letter_exchange}
    try:
        channel.queue_declare(
            queue=queue, durable=True, arguments={**arguments, "x-delivery-limit": DELIVERY_LIMIT}
        )
    except ChannelClosedByBroker as exc:
        if exc.reply_code != 406:  # PRECONDITION_FAILED: the queue exists with other arguments
            raise
        # A queue declared before the delivery limit existed: RabbitMQ never changes the arguments of an
        # existing queue, so the policy "rentals-inbox" (docs/ARCHITECTURE.md) supplies the limit there.
        channel = channel.connection.channel()
        channel.queue_declare(queue=queue, durable=True, arguments=arguments)
        logger.warning(
            "queue declared without x-delivery-limit; its delivery limit comes from the broker policy",
            extra={"queue": queue, "policy": "rentals-inbox"},
        )
    if queue == QUEUE:
        for exchange, routing_key in BINDINGS:
            channel.queue_bind(queue=queue, exchange=exchange, routing_key=routing_key)
    return channel


def _producer_exchange_ensure(channel, exchange: str):
    """A producer's exchange belongs to its producer (which declares it, as do the broker definitions of
    compose and the local stack); this service's broker user may only read it. So: a passive declaration,
    and only when it does not exist yet an active one, which a least-privilege user is refused (the
    consumer then retries with backoff until the producer has declared it)."""
    try:
        channel.exchange_declare(exchange=exchange, passive=True)
        return channel
    except ChannelClosedByBroker as exc:
        if exc.reply_code != 404:
            raise
    channel = channel.connection.channel()
    channel.exchange_declare(exchange=exchange, exchange_type="topic", durable=True)
    return channel


class InboxConsumer:
    """One broker connection; what arrived together (up to ``batch_size``) is applied as one batch."""

    def __init__(
        self,
        *,
        amqp_url: str | None = None,
        stop: StopFlag | None = None,
        prefetch: int = DEFAULT_PREFETCH,
        batch_size: int = DEFAULT_BATCH_SIZE,
        topology: dict[str, str] | None = None,
    ):
        self.amqp_url = amqp_url
        self.stop = stop or StopFlag()
        self.prefetch = prefetch
        self.batch_size = max(1, min(batch_size, prefetch))
        self.topology = topology or {}
        self.queue = self.topology.get("queue", QUEUE)
        self.connection: pika.BlockingConnection | None = None
        self.arrived: list[tuple[int, bytes, str | None]] = []

    def _on_message(self, channel, method, properties, body) -> None:
        self.arrived.append((method.delivery_tag, body, properties.user_id))

    def _settle(self, channel, batch: list[tuple[int, bytes, str | None]]) -> None:
        close_old_connections()
        outcomes = handle_batch([body for _, body, _ in batch], user_ids=[user_id for _, _, user_id in batch])
        if any(outcome is Outcome.RETRY for outcome in outcomes):
            self.connection.sleep(1.0)
        acked = None
        for (tag, _, _), outcome in zip(batch, outcomes, strict=True):
            if outcome is Outcome.ACK:
                acked = tag
            else:
                channel.basic_nack(delivery_tag=tag, requeue=outcome is Outcome.RETRY)
        if acked is not None:
            # Batches are settled in delivery order, so every earlier delivery is settled already.
            channel.basic_ack(delivery_tag=acked, multiple=True)

    def _drain(self, channel) -> None:
        """Wait for deliveries; once some arrived, collect a little longer, then apply them as batches."""
        self.connection.process_data_events(time_limit=0.5)
        if not self.arrived:
            return
        deadline = time.monotonic() + COLLECT_SECONDS
        while len(self.arrived) < self.batch_size and time.monotonic() < deadline:
            self.connection.process_data_events(time_limit=max(0.0, deadline - time.monotonic()))
        while self.arrived:
            batch, self.arrived = self.arrived[: self.batch_size], self.arrived[self.batch_size :]
            self._settle(channel, batch)

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stop.stopping and time.monotonic() < deadline:
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))

    def run(self) -> None:
        backoff = 0.5
        while not self.stop.stopping:
            try:
                self.connection = pika.BlockingConnection(connection_parameters(self.amqp_url))
                channel = self.connection.channel()
                channel = declare_topology(channel, **self.topology)
                channel.basic_qos(prefetch_count=self.prefetch)
                channel.basic_consume(queue=self.queue, on_message_callback=self._on_message)
                logger.info("consuming", extra={"queue": self.queue})
                backoff = 0.5
                while not self.stop.stopping:
                    self._drain(channel)
            except (AMQPError, OSError) as exc:
                logger.warning(
                    "broker unavailable, retrying", extra={"error": repr(exc), "backoff_s": backoff}
                )
                self._sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
            finally:
                self.arrived = []  # unsettled: the broker redelivers them
                if self.connection is not None and self.connection.is_open:
                    with contextlib.suppress(AMQPError):
                        self.connection.close()
                self.connection = None
        logger.info("consumer stopped")
