"""The ``rental.finished`` consumer: a Celery consumer bootstep reading plain JSON events."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from celery import bootsteps
from kombu import Consumer

from billing.config import load_settings
from billing.errors import InvalidEventError
from billing.events import rental_finished_parse
from billing.services import dead_letter_headers
from billing.topology import (
    DEAD_LETTER_EXCHANGE,
    RENTAL_FINISHED_ROUTING_KEY,
    rental_finished_queue,
    topology_declare,
)

logger = logging.getLogger(__name__)

ISSUE_INVOICE_TASK = "billing.issue_invoice_task"
HANDOVER_RETRY_DELAY_SECONDS = 1.0


def rental_finished_receive(
    *,
    message: Any,
    forward: Callable[[dict[str, Any]], None],
    dead_letter: Callable[..., None],
    retry_delay: float = HANDOVER_RETRY_DELAY_SECONDS,
) -> str:
    """Handle one delivery; never raises (an exception here would restart the worker's consumer).

    valid -> ``forward(event)`` then ack; invalid -> ``dead_letter(body=, reason=, message_id=,
    content_type=)`` then ack; broker trouble while handing over -> requeue after ``retry_delay``.
    """
    body = message.body if isinstance(message.body, bytes) else str(message.body).encode("utf-8")
    try:
        try:
            event = rental_finished_parse(body=body)
        except InvalidEventError as exc:
            logger.warning("dead-lettering invalid rental.finished message: %s", exc.reason)
            dead_letter(
                body=body,
                reason=exc.reason,
                message_id=(message.properties or {}).get("message_id"),
                content_type=message.content_type,
            )
            outcome = "dead-lettered"
        else:
            forward(event)
            outcome = "forwarded"
        message.ack()
        return outcome
    except Exception:
        logger.exception("could not hand over a rental.finished message; requeueing it")
        time.sleep(retry_delay)
        try:
            message.reject(requeue=True)
        except Exception:
            logger.exception("requeue failed; the broker redelivers the message when the channel closes")
        return "requeued"


class RentalFinishedConsumerStep(bootsteps.ConsumerStep):
    """Declares the billing topology and consumes ``billing.rental-finished`` on its own channel."""

    def __init__(self, parent, **kwargs):
        super().__init__(parent, **kwargs)
        self.app = parent.app

    def get_consumers(self, channel):
        topology_declare(channel)
        return [
            Consumer(
                channel,
                queues=[rental_finished_queue],
                on_message=self.on_message,
                prefetch_count=load_settings().prefetch_count,
            )
        ]

    def on_message(self, message) -> None:
        rental_finished_receive(message=message, forward=self.forward, dead_letter=self.dead_letter)

    def forward(self, event: dict[str, Any]) -> None:
        self.app.send_task(ISSUE_INVOICE_TASK, args=(event,), retry=True)

    def dead_letter(
        self, *, body: bytes, reason: str, message_id: str | None, content_type: str | None
    ) -> None:
        with self.app.producer_pool.acquire(block=True, timeout=10) as producer:
            producer.publish(
                body,
                exchange=DEAD_LETTER_EXCHANGE,
                routing_key=RENTAL_FINISHED_ROUTING_KEY,
                headers=dead_letter_headers(reason=reason, message_id=message_id),
                content_type=content_type or "application/octet-stream",
                content_encoding="binary",
                delivery_mode=2,
                message_id=message_id,
                retry=True,
            )
