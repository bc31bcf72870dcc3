"""Outbox relay: publish pending rows to the `auth.events` topic exchange with publisher confirms.

Rows are claimed with SELECT … FOR UPDATE SKIP LOCKED (several relays may run) and marked published
only after the broker confirmed them. Delivery is at-least-once; consumers dedupe on `event_id`.
"""

import contextlib
import json
import logging
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pika
from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.models import F
from pika.adapters.blocking_connection import BlockingChannel

from outbox.models import OutboxEvent

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


def outbox_publish_pending(*, channel: BlockingChannel, exchange: str, batch_size: int = 100) -> int:
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
        self._stop = threading.Event()
        self._sleep = sleep or self._stop.wait

    def stop(self, *_: object) -> None:
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)

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
                    sent = outbox_publish_pending(
                        channel=channel, exchange=self.exchange, batch_size=self.batch_size
                    )
                    if sent:
                        logger.info("outbox events published", extra={"count": sent})
                    if sent < self.batch_size:
                        # Sleep in small steps through pika so heartbeats are answered and stop() is prompt.
                        deadline = time.monotonic() + self.poll_interval
                        while not self.stopping and time.monotonic() < deadline:
                            connection.process_data_events(time_limit=min(0.2, self.poll_interval))
            except Exception as exc:
                if self.stopping:
                    break
                logger.warning(
                    "outbox relay error, reconnecting",
                    extra={"error": repr(exc), "retry_in_seconds": backoff},
                )
                close_old_connections()
                self._sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)
            finally:
                if connection is not None and connection.is_open:
                    with contextlib.suppress(Exception):  # the connection is gone either way
                        connection.close()
        logger.info("outbox relay stopped")
