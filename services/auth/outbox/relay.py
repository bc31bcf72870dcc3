"""Outbox relay: publish pending rows to the `auth.events` topic exchange with publisher confirms.

Rows are claimed with SELECT … FOR UPDATE SKIP LOCKED (several relays may run) and marked published
only after the broker confirmed them. Delivery is at-least-once; consumers dedupe on `event_id`.
The relay waits for NOTIFY outbox_event (sent right after the commit of every transaction that recorded
events, outbox.services) and polls every OUTBOX_POLL_INTERVAL_SECONDS as a fallback; between passes it
deletes published rows older than OUTBOX_RETENTION_HOURS in small batches.
"""

import contextlib
import json
import logging
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pika
from django.conf import settings
from django.db import close_old_connections, transaction
from django.db import connection as db_connection
from django.db.models import F
from pika.adapters.blocking_connection import BlockingChannel

from outbox.listener import OutboxListener
from outbox.models import OutboxEvent
from outbox.services import outbox_prune

logger = logging.getLogger(__name__)


def channel_open(*, amqp_url: str, exchange: str) -> tuple[pika.BlockingConnection, BlockingChannel]:
    params = pika.URLParameters(amqp_url)
    params.connection_attempts = 1
    params.socket_timeout = 5
    params.blocked_connection_timeout = 30
    params.client_properties = {"connection_name": "auth-outbox-relay"}
    connection = pika.BlockingConnection(params)
    channel = connection.channel()
    channel.confirm_delivery()
    channel.exchange_declare(exchange=exchange, exchange_type="topic", durable=True)
    return connection, channel


def amqp_user(amqp_url: str) -> str:
    """The broker user of an AMQP URL: what the relay's publishes carry as their user_id property
    (RabbitMQ refuses a user_id other than the publishing connection's user; consumers check it)."""
    return pika.URLParameters(amqp_url).credentials.username


def outbox_publish_pending(
    *, channel: BlockingChannel, exchange: str, batch_size: int = 100, user_id: str | None = None
) -> int:
    """One pass: publish up to batch_size pending events; returns how many were confirmed.

    Confirmed rows are marked even when a later publish in the batch fails; the error is re-raised
    after the transaction committed so the caller reconnects.
    """
    error: Exception | None = None
    with transaction.atomic():
        events = list(
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(published_at__isnull=True)
            .order_by("created_at")[:batch_size]
        )
        confirmed: list[Any] = []
        for event in events:
            try:
                # With confirm_delivery(), basic_publish blocks until the broker acks; a nack raises.
                channel.basic_publish(
                    exchange=exchange,
                    routing_key=event.event_type,
                    body=json.dumps(event.payload, separators=(",", ":")).encode(),
                    properties=pika.BasicProperties(
                        content_type="application/json",
                        delivery_mode=pika.DeliveryMode.Persistent,
                        message_id=str(event.id),
                        type=event.event_type,
                        timestamp=int(time.time()),
                        app_id=settings.EVENT_PRODUCER,
                        user_id=user_id,
                    ),
                )
            except Exception as exc:
                error = exc
                OutboxEvent.objects.filter(id=event.id).update(attempts=F("attempts") + 1)
                break
            confirmed.append(event.id)
        if confirmed:
            OutboxEvent.objects.filter(id__in=confirmed).update(published_at=datetime.now(tz=UTC))
    if error is not None:
        raise error
    return len(confirmed)


class OutboxRelay:
    """Runs until stop() (SIGTERM/SIGINT); reconnects forever with capped exponential backoff."""

    def __init__(
        self,
        *,
        amqp_url: str | None = None,
        exchange: str | None = None,
        poll_interval: float | None = None,
        batch_size: int | None = None,
        max_backoff: float = 30.0,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.amqp_url = amqp_url or settings.AMQP_URL
        self.exchange = exchange or settings.AUTH_EVENTS_EXCHANGE
        self.poll_interval = (
            poll_interval if poll_interval is not None else settings.OUTBOX_POLL_INTERVAL_SECONDS
        )
        self.batch_size = batch_size or settings.OUTBOX_BATCH_SIZE
        self.max_backoff = max_backoff
        self._stopping = False
        self._sleep = sleep or self._sleep_unless_stopped
        self.listener = OutboxListener()
        self.prune_interval = settings.RETENTION_PRUNE_INTERVAL_SECONDS
        self.prune_batch_size = settings.RETENTION_PRUNE_BATCH_SIZE
        self.prune_due = 0.0  # time.monotonic() of the next retention pass; 0 = at the first pass

    def stop(self, *_: object) -> None:
        # Runs as a signal handler: a plain flag, no lock. (A threading.Event set here could deadlock with the
        # main thread caught inside Event.wait() holding the same lock; the relay then never exited.)
        self._stopping = True

    @property
    def stopping(self) -> bool:
        return self._stopping

    def _sleep_unless_stopped(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self._stopping and (remaining := deadline - time.monotonic()) > 0:
            time.sleep(min(0.2, remaining))

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)

    def prune(self) -> bool:
        """One retention step (one batch). True when there was more to delete."""
        older_than = datetime.now(tz=UTC) - timedelta(hours=settings.OUTBOX_RETENTION_HOURS)
        deleted = outbox_prune(older_than=older_than, batch_size=self.prune_batch_size)
        if deleted:
            logger.info("retention pruned outbox events", extra={"count": deleted})
        return deleted >= self.prune_batch_size

    def prune_if_due(self) -> None:
        # A full batch keeps the step due, so a backlog is worked off one batch per relay pass.
        if time.monotonic() >= self.prune_due and not self.prune():
            self.prune_due = time.monotonic() + self.prune_interval

    def wait_for_events(self, connection: pika.BlockingConnection) -> None:
        """Until a NOTIFY arrives, the poll interval passes or stop(); answers broker heartbeats."""
        deadline = time.monotonic() + self.poll_interval
        while not self.stopping and (remaining := deadline - time.monotonic()) > 0:
            if self.listener.listening:
                if self.listener.wait(min(0.2, remaining)):
                    return
                connection.process_data_events(time_limit=0)
            else:
                connection.process_data_events(time_limit=min(0.2, remaining))

    def run(self) -> None:
        backoff = 0.5
        while not self.stopping:
            connection = None
            try:
                connection, channel = channel_open(amqp_url=self.amqp_url, exchange=self.exchange)
                logger.info("outbox relay connected", extra={"exchange": self.exchange})
                backoff = 0.5
                while not self.stopping:
                    close_old_connections()
                    if not self.listener.listening:
                        # Before the pass: a commit between the pass and the wait is then still noticed.
                        self.listener.listen()
                    sent = outbox_publish_pending(
                        channel=channel,
                        exchange=self.exchange,
                        batch_size=self.batch_size,
                        user_id=amqp_user(self.amqp_url),
                    )
                    if sent:
                        logger.info("outbox events published", extra={"count": sent})
                    self.prune_if_due()
                    if sent < self.batch_size:
                        self.wait_for_events(connection)
            except Exception as exc:
                if self.stopping:
                    break
                logger.warning(
                    "outbox relay error, reconnecting",
                    extra={"error": repr(exc), "retry_in_seconds": backoff},
                )
                close_old_connections()
                self.listener.close()
                self._sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)
            finally:
                if connection is not None and connection.is_open:
                    with contextlib.suppress(Exception):  # the connection is gone either way
                        connection.close()
        self.listener.close()
        db_connection.close()  # this thread's database connection: nothing holds the database after a stop
        logger.info("outbox relay stopped")
