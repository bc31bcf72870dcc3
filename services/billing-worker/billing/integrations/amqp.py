"""Confirmed, persistent publishing to RabbitMQ with pika (one connection + channel per process).

``confirm_delivery()`` puts the channel in publisher-confirm mode: ``basic_publish`` returns only after the
broker acked the message, and raises on a nack. A dropped connection (e.g. an idle one the broker closed
after missed heartbeats) is reopened once per publish; a second failure is a TransientError.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pika
from pika.exceptions import AMQPError

from billing.errors import TransientError

logger = logging.getLogger(__name__)


def event_json_bytes(event: dict) -> bytes:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class EventPublisher:
    def __init__(self, *, amqp_url: str, exchanges: tuple[tuple[str, str], ...] = ()):
        """``exchanges``: (name, type) pairs declared durable on every (re)connect."""
        self.amqp_url = amqp_url
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
