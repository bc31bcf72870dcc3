"""The ``rental.finished`` consumer: a thread of the Celery worker's main process that issues invoices
in batches.

Each batch is what arrived (up to ``BILLING_BATCH_SIZE`` deliveries, prefetch ``BILLING_PREFETCH``):
parse + validate every event, conditional PUTs of the invoice JSONs in parallel through one shared S3
client, ``invoice.issued`` of each published on this consumer's own channel in confirm mode and confirmed
once for the batch, then one ``billing.send_receipts_task`` for the receipts of the batch (also
confirmed), then the deliveries are acked. So a delivery is acked only after its invoice is in S3 and
its ``invoice.issued`` is confirmed; a crash before that leaves it unacked and the broker redelivers it
(the work is idempotent). Per delivery: invalid -> republished to ``billing.dlx`` with ``x-error`` (and
acked once that is confirmed); S3 failed for it -> handed over to ``billing.issue_invoice_task`` with a
countdown (Celery's backoff retries); an event that cannot be invoiced -> dead-lettered. Broker trouble ->
reconnect with backoff; unacked deliveries come back.

The thread owns its connection (py-amqp, no kombu confirm_publish: publishes are confirmed per batch),
so the worker's event loop and prefork pool (receipts, retries, reconciliation) are untouched.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import amqp
from celery import bootsteps
from kombu import Connection, Producer

from billing.config import load_settings
from billing.errors import InvalidEventError, TransientError
from billing.events import rental_finished_parse
from billing.integrations.amqp import ConfirmingChannel
from billing.integrations.s3 import InvoiceStorage, s3_client_create
from billing.services import BatchEntry, dead_letter_headers, invoices_issue_batch
from billing.topology import (
    DEAD_LETTER_EXCHANGE,
    RENTAL_FINISHED_QUEUE,
    RENTAL_FINISHED_ROUTING_KEY,
    tasks_queue,
    topology_declare,
)

logger = logging.getLogger(__name__)

ISSUE_INVOICE_TASK = "billing.issue_invoice_task"
SEND_RECEIPTS_TASK = "billing.send_receipts_task"
# How long a batch waits for more deliveries once one arrived: a burst fills a batch, a lone event waits
# only this long.
COLLECT_SECONDS = 0.01
MAX_BACKOFF_SECONDS = 10.0
HEARTBEAT_SECONDS = 60


def delivery_parse(
    message: Any, *, producer_user: str | None = None
) -> tuple[dict[str, Any] | None, str | None]:
    """(event, None) for a valid ``rental.finished`` delivery, (None, reason) for one to dead-letter.
    ``producer_user``: rentals' broker user, which the delivery's AMQP user_id must be (RabbitMQ
    guarantees user_id is the publishing connection's user); None skips that check."""
    if producer_user is not None:
        user_id = (message.properties or {}).get("user_id")
        if user_id != producer_user:
            return None, f"published by broker user {user_id!r}, not rentals' {producer_user!r}"
    body = message.body if isinstance(message.body, bytes) else str(message.body).encode("utf-8")
    try:
        return rental_finished_parse(body=body), None
    except InvalidEventError as exc:
        return None, exc.reason


class BatchSettlement:
    """What one batch publishes besides ``invoice.issued``: receipts, retries and dead letters."""

    def __init__(self) -> None:
        self.dead: list[tuple[Any, str]] = []  # (message, reason)
        self.retry: list[dict[str, Any]] = []  # events whose S3 step failed
        self.receipts: list[dict[str, Any]] = []


def batch_settle(
    *,
    messages: list[Any],
    entries_run: Callable[[list[BatchEntry]], list[BatchEntry]],
    producer_user: str | None = None,
) -> BatchSettlement:
    """Sort a batch of deliveries into a BatchSettlement; ``entries_run`` issues the valid ones
    (invoices_issue_batch). Every delivery ends in exactly one of: issued, dead-lettered, retried.
    ``producer_user``: see delivery_parse (the consumer always passes it)."""
    settlement = BatchSettlement()
    valid: list[tuple[Any, BatchEntry]] = []
    for message in messages:
        event, reason = delivery_parse(message, producer_user=producer_user)
        if event is None:
            logger.warning("dead-lettering invalid rental.finished message: %s", reason)
            settlement.dead.append((message, reason))
        else:
            redelivered = bool((message.delivery_info or {}).get("redelivered"))
            valid.append((message, BatchEntry(event=event, redelivered=redelivered)))
    if valid:
        entries_run([entry for _, entry in valid])
    for message, entry in valid:
        if entry.error is None:
            if entry.hand_over:
                settlement.receipts.append(entry.invoice)
        elif isinstance(entry.error, TransientError):
            logger.warning("rental.finished %s: %s", entry.event.get("event_id"), entry.error)
            settlement.retry.append(entry.event)
        else:
            logger.error(
                "rental.finished %s cannot be invoiced: %r", entry.event.get("event_id"), entry.error
            )
            settlement.dead.append((message, f"unexpected error: {entry.error!r}"))
    return settlement


class RentalFinishedConsumer:
    """Consumes ``billing.rental-finished`` in batches until ``stop`` is set; reconnects on its own."""

    def __init__(
        self,
        *,
        app: Any,
        amqp_url: str,
        storage: InvoiceStorage,
        prefetch: int,
        batch_size: int,
        threads: int,
        stop: threading.Event,
        producer_user: str | None = None,
    ):
        self.app = app
        self.amqp_url = amqp_url
        self.producer_user = producer_user
        self.storage = storage
        self.prefetch = prefetch
        self.batch_size = batch_size
        self.stop = stop
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="invoice-s3")
        self.arrived: list[Any] = []
        self.consuming = False

    def run(self) -> None:
        backoff = 0.5
        while not self.stop.is_set():
            connection = Connection(self.amqp_url, heartbeat=HEARTBEAT_SECONDS, connect_timeout=10)
            self.consuming = False
            try:
                self._consume(connection)
            except Exception as exc:  # broker, S3 bucket check or anything else: start over
                if self.consuming:  # it was working: the first retry comes soon
                    backoff = 0.5
                logger.warning("rental.finished consumer: %r; reconnecting in %.1f s", exc, backoff)
                self.stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
            finally:
                self.arrived.clear()  # unacked: the broker redelivers them
                try:
                    connection.release()
                except Exception:
                    logger.debug("ignored error while closing the consumer connection", exc_info=True)
        self.executor.shutdown(wait=True)
        logger.info("rental.finished consumer stopped")

    def _consume(self, connection: Connection) -> None:
        connection.connect()
        raw = connection.connection  # the py-amqp connection
        channel = topology_declare(raw.channel())
        tasks_queue.bind(channel).declare()
        self.storage.bucket_ensure()
        confirming = ConfirmingChannel(connection=raw, channel=channel, user_id=connection.userid)
        producer = Producer(channel)
        channel.basic_qos(0, self.prefetch, False)
        channel.basic_consume(queue=RENTAL_FINISHED_QUEUE, callback=self.arrived.append)
        logger.info("consuming %s (batches of up to %d)", RENTAL_FINISHED_QUEUE, self.batch_size)
        self.consuming = True
        while not self.stop.is_set():
            raw.heartbeat_tick()
            if not self.arrived:
                try:
                    raw.drain_events(timeout=1.0)
                except TimeoutError:
                    continue
            deadline = time.monotonic() + COLLECT_SECONDS
            while len(self.arrived) < self.batch_size and time.monotonic() < deadline:
                try:
                    raw.drain_events(timeout=max(0.001, deadline - time.monotonic()))
                except TimeoutError:
                    break
            batch, self.arrived[:] = self.arrived[: self.batch_size], self.arrived[self.batch_size :]
            self._batch(batch, channel=channel, confirming=confirming, producer=producer)

    def _batch(self, messages: list[Any], *, channel: Any, confirming: ConfirmingChannel, producer: Any):
        settlement = batch_settle(
            messages=messages,
            entries_run=lambda entries: invoices_issue_batch(
                entries=entries, storage=self.storage, publisher=confirming, parallel_map=self.executor.map
            ),
            producer_user=self.producer_user,
        )
        # invoice.issued is out before any receipt is handed over (the receipt names the invoice)
        confirming.confirm()
        if settlement.receipts:
            self.app.send_task(
                SEND_RECEIPTS_TASK,
                args=(settlement.receipts,),
                producer=producer,
                retry=False,
                declare=[],
                argsrepr=f"({len(settlement.receipts)} invoices,)",
            )
        for event in settlement.retry:
            # redelivered: the failed write may have landed (a lost answer), so the retry must treat an
            # invoice it finds without its HTML as its own and hand the receipt over, not drop it.
            self.app.send_task(
                ISSUE_INVOICE_TASK,
                args=(event,),
                kwargs={"redelivered": True},
                countdown=1.0,
                producer=producer,
                retry=False,
                declare=[],
                argsrepr=f"(rental.finished {event['event_id']},)",
            )
        for message, reason in settlement.dead:
            message_id = (message.properties or {}).get("message_id")
            channel.basic_publish(
                amqp.Message(
                    message.body,
                    content_type=(message.properties or {}).get("content_type") or "application/octet-stream",
                    delivery_mode=2,
                    message_id=message_id,
                    user_id=confirming.user_id,
                    application_headers=dead_letter_headers(reason=reason, message_id=message_id),
                ),
                exchange=DEAD_LETTER_EXCHANGE,
                routing_key=RENTAL_FINISHED_ROUTING_KEY,
            )
        confirming.confirm()
        # Every earlier delivery is settled (batches are taken in delivery order and settled in full).
        channel.basic_ack(messages[-1].delivery_tag, multiple=True)


class RentalFinishedConsumerStep(bootsteps.StartStopStep):
    """Runs RentalFinishedConsumer in a thread of the worker's main process, after the pool has forked."""

    requires = ("celery.worker.components:Pool",)

    def __init__(self, parent, **kwargs):
        super().__init__(parent, **kwargs)
        self.stop_flag = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self, parent):
        settings = load_settings()
        storage = InvoiceStorage(
            client=s3_client_create(
                endpoint_url=settings.s3_endpoint_url,
                region=settings.s3_region,
                max_pool_connections=settings.batch_threads + 2,
            ),
            bucket=settings.invoices_bucket,
        )
        consumer = RentalFinishedConsumer(
            app=parent.app,
            amqp_url=settings.amqp_url,
            storage=storage,
            prefetch=settings.prefetch_count,
            batch_size=settings.batch_size,
            threads=settings.batch_threads,
            stop=self.stop_flag,
            producer_user=settings.producer_users["rentals"],
        )
        self.thread = threading.Thread(target=consumer.run, name="rental-finished", daemon=True)
        self.thread.start()

    def stop(self, parent):
        self.stop_flag.set()
        if self.thread is not None:
            self.thread.join(timeout=45)

    shutdown = stop
