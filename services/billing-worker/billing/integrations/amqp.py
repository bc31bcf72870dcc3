"""Confirmed, persistent publishing to RabbitMQ with pika (one connection + channel per process).

``confirm_delivery()`` puts the channel in publisher-confirm mode: ``basic_publish`` returns only after the
broker acked the message, and raises on a nack. A dropped connection (e.g. an idle one the broker closed
after missed heartbeats) is reopened once per publish; a second failure is a TransientError.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import amqp
import pika
from pika.exceptions import AMQPError

from billing.config import amqp_user
from billing.errors import TransientError

logger = logging.getLogger(__name__)


def event_json_bytes(event: dict) -> bytes:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class EventPublisher:
    def __init__(self, *, amqp_url: str, exchanges: tuple[tuple[str, str], ...] = ()):
        """``exchanges``: (name, type) pairs declared durable on every (re)connect."""
        self.amqp_url = amqp_url
        self.user_id = amqp_user(amqp_url)
        self.exchanges = exchanges
        self._connection: pika.BlockingConnection | None = None
        self._channel: Any = None

    def _open(self) -> Any:
        if self._channel is not None and self._channel.is_open and self._connection.is_open:
            return self._channel
        self.close()
        params = pika.URLParameters(self.amqp_url)
        params.connection_attempts = 1
        params.socket_timeout = 10
        params.blocked_connection_timeout = 30
        self._connection = pika.BlockingConnection(params)
        channel = self._connection.channel()
        channel.confirm_delivery()
        for name, kind in self.exchanges:
            channel.exchange_declare(exchange=name, exchange_type=kind, durable=True)
        self._channel = channel
        return channel

    def close(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None and connection.is_open:
            try:
                connection.close()
            except Exception:  # closing a broken connection may fail; nothing to do about it
                logger.debug("ignored error while closing the publisher connection", exc_info=True)

    def publish(
        self,
        *,
        exchange: str,
        routing_key: str,
        body: bytes,
        message_id: str,
        content_type: str = "application/json",
        message_type: str | None = None,
        headers: dict | None = None,
    ) -> None:
        properties = pika.BasicProperties(
            content_type=content_type,
            delivery_mode=pika.DeliveryMode.Persistent,
            message_id=message_id,
            type=message_type,
            headers=headers or None,
            app_id="billing-worker",
            user_id=self.user_id,
        )
        last_error: Exception | None = None
        for attempt in (1, 2):
            try:
                channel = self._open()
                channel.basic_publish(
                    exchange=exchange, routing_key=routing_key, body=body, properties=properties
                )
                return
            except (AMQPError, OSError) as exc:
                last_error = exc
                logger.warning("publish to %s failed (attempt %d): %r", exchange, attempt, exc)
                self.close()
        raise TransientError(f"AMQP publish to {exchange}/{routing_key}: {last_error!r}") from last_error

    def publish_event(self, *, exchange: str, event: dict, headers: dict | None = None) -> None:
        """Envelope convention: routing key = event_type, message_id = event_id."""
        self.publish(
            exchange=exchange,
            routing_key=event["event_type"],
            body=event_json_bytes(event),
            message_id=event["event_id"],
            message_type=event["event_type"],
            headers=headers,
        )


class ConfirmingChannel:
    """A py-amqp channel in publisher-confirm mode that publishes without waiting per message:
    ``publish``/``publish_event`` (the Publisher protocol) only send; ``confirm()`` then waits once for
    the broker to confirm everything sent so far (one round trip for a whole batch).

    ``channel`` is a py-amqp (or kombu pyamqp) channel of a connection opened *without* kombu's
    ``confirm_publish`` (which would wait per publish). Every ``basic_publish`` made on it, also by a
    kombu Producer such as Celery's ``send_task(producer=...)``, is counted, so the sequence numbers
    always match the broker's.
    """

    def __init__(self, *, connection: Any, channel: Any, user_id: str | None = None):
        """``user_id``: the connection's broker user, set as every publish's user_id property."""
        self.connection = connection
        self.channel = channel
        self.user_id = user_id
        self.sequence = 0
        self.outstanding: set[int] = set()
        self.refused = 0
        publish = channel.basic_publish

        def counted_publish(*args: Any, **kwargs: Any) -> Any:
            result = publish(*args, **kwargs)
            self.sequence += 1
            self.outstanding.add(self.sequence)
            return result

        channel.confirm_select()
        channel.basic_publish = counted_publish
        channel.events["basic_ack"].add(self._on_ack)
        channel.events["basic_nack"].add(self._on_nack)

    def _settle(self, delivery_tag: int, multiple: bool) -> int:
        if not multiple:
            if delivery_tag in self.outstanding:
                self.outstanding.discard(delivery_tag)
                return 1
            return 0
        done = {tag for tag in self.outstanding if tag <= delivery_tag}
        self.outstanding -= done
        return len(done)

    def _on_ack(self, delivery_tag: int, multiple: bool = False) -> None:
        self._settle(delivery_tag, multiple)

    def _on_nack(self, delivery_tag: int, multiple: bool = False) -> None:
        self.refused += self._settle(delivery_tag, multiple)

    def publish(
        self,
        *,
        exchange: str,
        routing_key: str,
        body: bytes,
        message_id: str,
        content_type: str = "application/json",
        message_type: str | None = None,
        headers: dict | None = None,
    ) -> None:
        properties: dict[str, Any] = {
            "content_type": content_type,
            "delivery_mode": 2,
            "message_id": message_id,
            "app_id": "billing-worker",
        }
        if self.user_id:
            properties["user_id"] = self.user_id
        if message_type:
            properties["type"] = message_type
        if headers:
            properties["application_headers"] = headers
        try:
            self.channel.basic_publish(
                amqp.Message(body, **properties), exchange=exchange, routing_key=routing_key
            )
        except (amqp.exceptions.AMQPError, OSError) as exc:
            raise TransientError(f"AMQP publish to {exchange}/{routing_key}: {exc!r}") from exc

    def publish_event(self, *, exchange: str, event: dict, headers: dict | None = None) -> None:
        self.publish(
            exchange=exchange,
            routing_key=event["event_type"],
            body=event_json_bytes(event),
            message_id=event["event_id"],
            message_type=event["event_type"],
            headers=headers,
        )

    def confirm(self, *, timeout: float = 30.0) -> None:
        """Wait until the broker confirmed every publish so far; TransientError on a refusal (nack),
        a timeout or a broken connection. Deliveries that arrive meanwhile go to their consumers."""
        deadline = time.monotonic() + timeout
        try:
            while self.outstanding:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TransientError(f"{len(self.outstanding)} publishes not confirmed in {timeout} s")
                try:
                    self.connection.drain_events(timeout=remaining)
                except TimeoutError:
                    continue
        except (amqp.exceptions.AMQPError, OSError) as exc:
            raise TransientError(f"AMQP confirm: {exc!r}") from exc
        if self.refused:
            refused, self.refused = self.refused, 0
            raise TransientError(f"the broker refused {refused} publishes")
