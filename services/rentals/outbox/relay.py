"""Publishes outbox rows to RabbitMQ with publisher confirms; at-least-once, consumers are idempotent.

The relay waits for NOTIFY outbox_event (sent on commit of every transaction that inserted an outbox row)
and polls every OUTBOX_RELAY_POLL_SECONDS as a fallback. Between passes it also applies retention:
published outbox rows and Idempotency-Key records past their windows are deleted in small batches.
"""

import contextlib
import datetime as dt
import json
import logging
import time

import pika
from core.amqp import StopFlag, connection_parameters
from django.conf import settings
from django.db import DatabaseError, close_old_connections, transaction
from django.db import connection as db_connection
from django.db.models import F
from django.utils import timezone
from idempotency.services import idempotency_records_prune
from pika.exceptions import AMQPError, UnroutableError

from outbox.listener import OutboxListener
from outbox.models import OutboxEvent
from outbox.services import outbox_prune

logger = logging.getLogger(__name__)

# Events somebody must receive: if no queue is bound yet the broker returns them and we retry later.
MANDATORY_EVENTS = frozenset({"rental.finished"})
UNROUTABLE_RETRY = dt.timedelta(seconds=15)
MAX_BACKOFF_SECONDS = 30.0


class OutboxRelay:
    def __init__(self, *, amqp_url: str | None = None, stop: StopFlag | None = None) -> None:
        self.amqp_url = amqp_url or settings.AMQP_URL
        self.stop = stop or StopFlag()
        self.batch_size = settings.OUTBOX_RELAY_BATCH_SIZE
        self.poll_seconds = settings.OUTBOX_RELAY_POLL_SECONDS
        self.coalesce_seconds = settings.OUTBOX_RELAY_COALESCE_SECONDS
        self.connection: pika.BlockingConnection | None = None
        self.channel = None
        self.declared_exchanges: set[str] = set()
        self.listener = OutboxListener()
        self.prune_interval = settings.RETENTION_PRUNE_INTERVAL_SECONDS
        self.prune_batch_size = settings.RETENTION_PRUNE_BATCH_SIZE
        self.prune_due = 0.0  # time.monotonic() of the next retention pass; 0 = at the first pass

    def connect(self) -> None:
        self.connection = pika.BlockingConnection(connection_parameters(self.amqp_url))
        self.channel = self.connection.channel()
        self.channel.confirm_delivery()
        self.declared_exchanges = set()
        logger.info("outbox relay connected")

    def close(self) -> None:
        if self.connection is not None and self.connection.is_open:
            with contextlib.suppress(AMQPError):
                self.connection.close()
        self.connection = self.channel = None

    def _declare(self, exchange: str) -> None:
        if exchange not in self.declared_exchanges:
            self.channel.exchange_declare(exchange=exchange, exchange_type="topic", durable=True)
            self.declared_exchanges.add(exchange)

    def _publish(self, event: OutboxEvent) -> None:
        self._declare(event.exchange)
        self.channel.basic_publish(
            exchange=event.exchange,
            routing_key=event.event_type,
            body=json.dumps(event.payload, separators=(",", ":")).encode(),
            properties=pika.BasicProperties(
                content_type="application/json",
                delivery_mode=pika.DeliveryMode.Persistent,
                message_id=str(event.event_id),
                type=event.event_type,
                app_id="rentals",
                timestamp=int(time.time()),
            ),
            mandatory=event.event_type in MANDATORY_EVENTS,
        )

    def publish_batch(self) -> int:
        """Publish up to one batch; rows are marked published only after the broker's confirm."""
        close_old_connections()
        published: list[int] = []
        unroutable: list[int] = []
        failure: Exception | None = None
        with transaction.atomic():
            now = timezone.now()
            events = list(
                OutboxEvent.objects.select_for_update(skip_locked=True)
                .filter(published_at__isnull=True, available_at__lte=now)
                .order_by("id")[: self.batch_size]
            )
            for event in events:
                try:
                    self._publish(event)
                except UnroutableError:
                    unroutable.append(event.id)
                    continue
                except Exception as exc:  # broker gone mid-batch: keep what was confirmed
                    failure = exc
                    break
                published.append(event.id)
            if published:
                OutboxEvent.objects.filter(id__in=published).update(
                    published_at=timezone.now(), attempts=F("attempts") + 1
                )
            if unroutable:
                logger.warning("outbox events unroutable, will retry", extra={"count": len(unroutable)})
                OutboxEvent.objects.filter(id__in=unroutable).update(
                    available_at=now + UNROUTABLE_RETRY, attempts=F("attempts") + 1
                )
        if failure is not None:
            raise failure
        return len(published)

    def prune(self) -> bool:
        """One retention step: at most one batch per table. True when a table had more to delete."""
        now = timezone.now()
        outbox = outbox_prune(
            older_than=now - dt.timedelta(hours=settings.OUTBOX_RETENTION_HOURS),
            batch_size=self.prune_batch_size,
        )
        idempotency = idempotency_records_prune(
            older_than=now - dt.timedelta(hours=settings.IDEMPOTENCY_RETENTION_HOURS),
            batch_size=self.prune_batch_size,
        )
        if outbox or idempotency:
            logger.info(
                "retention pruned rows", extra={"outbox_events": outbox, "idempotency_records": idempotency}
            )
        return max(outbox, idempotency) >= self.prune_batch_size

    def prune_if_due(self) -> None:
        # A full batch keeps the step due, so a backlog is worked off one batch per relay pass.
        if time.monotonic() >= self.prune_due and not self.prune():
            self.prune_due = time.monotonic() + self.prune_interval

    def _wait_for_events(self, seconds: float) -> None:
        """Until a NOTIFY arrives, `seconds` pass (the poll fallback) or stop; answers broker heartbeats.
        After a notification it lingers `coalesce_seconds`, so the commits of a busy moment are published
        in one pass instead of one pass each (measured in BENCHMARKS.md)."""
        if not self.listener.listening:
            self._sleep(seconds)
            return
        deadline = time.monotonic() + seconds
        while not self.stop.stopping and (remaining := deadline - time.monotonic()) > 0:
            if self.listener.wait(min(0.2, remaining)):
                if self.coalesce_seconds > 0:
                    self._sleep(self.coalesce_seconds)
                return
            if self.connection is not None and self.connection.is_open:
                self.connection.process_data_events(time_limit=0)

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stop.stopping and time.monotonic() < deadline:
            if self.connection is not None and self.connection.is_open:
                self.connection.process_data_events(
                    time_limit=min(0.2, max(0.0, deadline - time.monotonic()))
                )
            else:
                time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))

    def run(self) -> None:
        backoff = 0.5
        while not self.stop.stopping:
            try:
                if self.connection is None or not self.connection.is_open:
                    self.connect()
                if not self.listener.listening:
                    # Before the pass: a commit between the pass and the wait is then still noticed.
                    self.listener.listen()
                published = self.publish_batch()
                backoff = 0.5
                self.prune_if_due()
                if published < self.batch_size:
                    self._wait_for_events(self.poll_seconds)
            except (AMQPError, OSError) as exc:
                logger.warning(
                    "broker unavailable, retrying", extra={"error": repr(exc), "backoff_s": backoff}
                )
                self.close()
                self._sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
            except DatabaseError as exc:
                logger.warning(
                    "database unavailable, retrying", extra={"error": repr(exc), "backoff_s": backoff}
                )
                close_old_connections()
                self.listener.close()
                self._sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
        self.listener.close()
        self.close()
        db_connection.close()  # this thread's database connection: nothing holds the database after a stop
        logger.info("outbox relay stopped")
