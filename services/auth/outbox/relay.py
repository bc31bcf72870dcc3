"""Publishes outbox rows to RabbitMQ with publisher confirms; at-least-once, consumers are idempotent.

The same file in auth and rentals (tools/check_shared_code.py); what differs is in settings: EVENT_PRODUCER
(the AMQP app_id), OUTBOX_MANDATORY_EVENTS, OUTBOX_RELAY_EXTRA_PRUNERS. Each row names its exchange.

The relay waits for NOTIFY outbox_event (sent right after the commit of every transaction that wrote outbox
rows, outbox.services) and polls every OUTBOX_RELAY_POLL_SECONDS as a fallback, so a lost notification
only delays. A pass locks up to OUTBOX_RELAY_BATCH_SIZE rows,
publishes them all, then waits once for the broker's confirms and marks exactly the confirmed rows
published (a crash between the confirm and the commit publishes them again). Between passes it also applies
retention: published outbox rows (and the service's OUTBOX_RELAY_EXTRA_PRUNERS tables, e.g. rentals'
Idempotency-Key records) past their windows are deleted in small batches.
"""

import contextlib
import datetime as dt
import json
import logging
import time

import pika
from core.amqp import BatchConfirmChannel, StopFlag, amqp_user, connection_parameters
from core.listener import NotificationListener
from django.conf import settings
from django.db import DatabaseError, close_old_connections, transaction
from django.db import connection as db_connection
from django.utils import timezone
from django.utils.module_loading import import_string
from pika.exceptions import AMQPError, NackError

from outbox import queries
from outbox.services import CHANNEL, outbox_prune

logger = logging.getLogger(__name__)

UNROUTABLE_RETRY = dt.timedelta(seconds=15)
MAX_BACKOFF_SECONDS = 30.0
CONFIRM_TIMEOUT_SECONDS = 30.0


class OutboxRelay:
    def __init__(self, *, amqp_url: str | None = None, stop: StopFlag | None = None) -> None:
        self.amqp_url = amqp_url or settings.AMQP_URL
        self.user_id = amqp_user(self.amqp_url)
        self.app_id = settings.EVENT_PRODUCER
        # Events somebody must receive: if no queue is bound yet the broker returns them and we retry later.
        self.mandatory_events = frozenset(settings.OUTBOX_MANDATORY_EVENTS)
        self.stop = stop or StopFlag()
        self.batch_size = settings.OUTBOX_RELAY_BATCH_SIZE
        self.poll_seconds = settings.OUTBOX_RELAY_POLL_SECONDS
        self.coalesce_seconds = settings.OUTBOX_RELAY_COALESCE_SECONDS
        self.confirm_timeout = CONFIRM_TIMEOUT_SECONDS
        self.connection: pika.BlockingConnection | None = None
        self.channel: BatchConfirmChannel | None = None
        self.declared_exchanges: set[str] = set()
        self.listener = NotificationListener(channel=CHANNEL)
        self.prune_interval = settings.RETENTION_PRUNE_INTERVAL_SECONDS
        self.prune_batch_size = settings.RETENTION_PRUNE_BATCH_SIZE
        self.prune_due = 0.0  # time.monotonic() of the next retention pass; 0 = at the first pass
        # name -> (prune(*, older_than, batch_size) -> int, the name of its retention setting in hours)
        self.pruners = {"outbox_events": (outbox_prune, "OUTBOX_RETENTION_HOURS")} | {
            name: (import_string(path), hours_setting)
            for name, (path, hours_setting) in settings.OUTBOX_RELAY_EXTRA_PRUNERS.items()
        }

    def connect(self) -> None:
        self.connection = pika.BlockingConnection(connection_parameters(self.amqp_url))
        self.channel = BatchConfirmChannel(self.connection, timeout=self.confirm_timeout)
        self.declared_exchanges = set()
        logger.info("outbox relay connected")

    def close(self) -> None:
        if self.connection is not None and self.connection.is_open:
            with contextlib.suppress(AMQPError):
                self.connection.close()
        self.connection = self.channel = None

    def _declare(self, exchange: str) -> None:
        if exchange not in self.declared_exchanges:
            self.channel.exchange_declare(exchange=exchange, exchange_type="topic")
            self.declared_exchanges.add(exchange)

    def _publish(
        self, *, event_id: str, event_type: str, exchange: str, payload: str, timestamp: int
    ) -> None:
        self._declare(exchange)
        self.channel.publish(
            exchange=exchange,
            routing_key=event_type,
            body=json.dumps(json.loads(payload), separators=(",", ":")).encode(),
            properties=pika.BasicProperties(
                content_type="application/json",
                delivery_mode=pika.DeliveryMode.Persistent,
                message_id=event_id,
                type=event_type,
                app_id=self.app_id,
                user_id=self.user_id,
                timestamp=timestamp,
            ),
            mandatory=event_type in self.mandatory_events,
        )

    def publish_batch(self) -> int:
        """Publish up to one batch and wait once for the broker's confirms. Only confirmed rows are marked
        published; returned (unroutable) ones are retried after UNROUTABLE_RETRY; nacked ones and those
        unconfirmed when the broker went away stay unpublished (and the error is raised after the commit)."""
        close_old_connections()
        failure: Exception | None = None
        with transaction.atomic(), db_connection.cursor() as cursor:
            now = timezone.now()
            rows = queries.batch_lock(cursor=cursor, now=now, limit=self.batch_size)
            if not rows:
                return 0
            row_ids: dict[str, int] = {}
            timestamp = int(time.time())
            try:
                for row_id, event_id, event_type, exchange, payload in rows:
                    event_id = str(event_id)
                    self._publish(
                        event_id=event_id,
                        event_type=event_type,
                        exchange=exchange,
                        payload=payload,
                        timestamp=timestamp,
                    )
                    row_ids[event_id] = row_id
                self.channel.wait_for_confirms(timeout=self.confirm_timeout)
            except Exception as exc:  # broker gone mid-batch: keep what was confirmed
                failure = exc
            settled = self.channel.take_settled()
            published = [row_ids[event_id] for event_id in settled.acked if event_id in row_ids]
            unroutable = [row_ids[event_id] for event_id in settled.returned if event_id in row_ids]
            if published:
                queries.mark_published(cursor=cursor, ids=published, at=timezone.now())
            if unroutable:
                logger.warning("outbox events unroutable, will retry", extra={"count": len(unroutable)})
                queries.retry_later(cursor=cursor, ids=unroutable, at=now + UNROUTABLE_RETRY)
            if settled.nacked and failure is None:
                failure = NackError(settled.nacked)  # its repr counts them
            if settled.nacked:
                logger.warning(
                    "outbox events refused by the broker, will retry", extra={"count": len(settled.nacked)}
                )
        if failure is not None:
            self.close()  # the channel's confirm state is unknown now; the next pass reconnects
            raise failure
        return len(published)

    def prune(self) -> bool:
        """One retention step: at most one batch per table. True when a table had more to delete."""
        now = timezone.now()
        counts = {
            name: prune(
                older_than=now - dt.timedelta(hours=getattr(settings, hours_setting)),
                batch_size=self.prune_batch_size,
            )
            for name, (prune, hours_setting) in self.pruners.items()
        }
        if any(counts.values()):
            logger.info("retention pruned rows", extra=counts)
        return max(counts.values()) >= self.prune_batch_size

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
