"""Threads of the Celery worker's main process: the event consumer (notifier.events) and the dispatcher
that hands due messages to the pool (immediate ones, reminders at their time, lost hand-overs again)."""

import json
import logging
import threading
import time

import pika
from core.contracts import ContractViolation, validate_event
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from pika.exceptions import AMQPError

from notifications import services
from notifications.amqp import connection_parameters, dead_letter, topology_declare
from notifications.topology import PRODUCERS, names

logger = logging.getLogger(__name__)


def event_parse(body: bytes, user_id: str | None) -> tuple[dict | None, str]:
    """(envelope, "") for an event to apply, or (None, reason) for one to dead-letter."""
    try:
        envelope = json.loads(body)
        validate_event(envelope)
    except (ValueError, UnicodeDecodeError, ContractViolation) as exc:
        return None, f"invalid: {exc}"
    producer = PRODUCERS.get(envelope["event_type"])
    if producer is None:
        return None, f"unexpected event type {envelope['event_type']}"
    expected = settings.AMQP_PRODUCER_USERS.get(producer)
    if user_id != expected:
        return None, f"user_id {user_id!r} is not {producer}'s broker user {expected!r}"
    return envelope, ""


def delivery_handle(channel, method, properties, body: bytes) -> None:
    envelope, reason = event_parse(body, properties.user_id)
    if envelope is None:
        logger.warning("dead-lettering event", extra={"error": reason, "message_id": properties.message_id})
        dead_letter(
            channel,
            routing_key="events",
            body=body,
            headers={
                "x-error": reason[:500],
                "x-original-exchange": method.exchange,
                "x-original-routing-key": method.routing_key,
                "x-original-message-id": properties.message_id or "",
            },
        )
        channel.basic_ack(method.delivery_tag)
        return
    try:
        applied = services.event_apply(envelope=envelope)
    except DatabaseError:
        logger.warning("database trouble; the event comes back", exc_info=True)
        connection.close()
        time.sleep(1)
        channel.basic_nack(method.delivery_tag, requeue=True)
        return
    except Exception as exc:  # a bug or an unappliable event: never block the queue
        logger.exception("event not applicable; dead-lettering", extra={"event_id": envelope["event_id"]})
        dead_letter(
            channel, routing_key="events", body=body, headers={"x-error": f"unexpected error: {exc!r}"[:500]}
        )
        channel.basic_ack(method.delivery_tag)
        return
    logger.info(
        "event", extra={"event_id": envelope["event_id"], "type": envelope["event_type"], "applied": applied}
    )
    channel.basic_ack(method.delivery_tag)


class BackgroundRunner:
    def __init__(self) -> None:
        self.stopping = threading.Event()
        self.threads = [
            threading.Thread(target=self._consume_forever, name="notifier-consumer", daemon=True),
            threading.Thread(target=self._dispatch_forever, name="notifier-dispatcher", daemon=True),
        ]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=10)

    def _consume_forever(self) -> None:
        backoff = 1.0
        while not self.stopping.is_set():
            try:
                self.consume()
                backoff = 1.0
            except (AMQPError, OSError) as exc:
                logger.warning("broker trouble; reconnecting", extra={"error": repr(exc), "in": backoff})
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, 30.0)
            except Exception:
                logger.exception("consumer failed; restarting it")
                self.stopping.wait(backoff)
            finally:
                close_old_connections()

    def consume(self) -> None:
        conn = pika.BlockingConnection(connection_parameters())
        try:
            channel = conn.channel()
            channel.confirm_delivery()
            topology_declare(channel)
            channel.basic_qos(prefetch_count=settings.NOTIFIER_PREFETCH)
            for method, properties, body in channel.consume(names()["events_queue"], inactivity_timeout=1):
                if self.stopping.is_set():
                    break
                if method is None:
                    continue
                delivery_handle(channel, method, properties, body)
        finally:
            if conn.is_open:
                conn.close()

    def _dispatch_forever(self) -> None:
        from notifications.tasks import deliver_notification_task

        while not self.stopping.is_set():
            try:
                for notification_id in services.notifications_claim_due():
                    deliver_notification_task.apply_async(args=(notification_id,), retry=False)
            except Exception:
                # A claimed message whose hand-over failed is handed over again when its lease runs out.
                logger.exception("dispatch failed")
                connection.close()
                self.stopping.wait(1)
            self.stopping.wait(settings.NOTIFIER_DISPATCH_POLL_SECONDS)
