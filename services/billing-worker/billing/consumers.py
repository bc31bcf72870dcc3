"""The ``rental.finished`` consumer: a Celery consumer bootstep reading plain JSON events.

It runs in the worker's event loop, so it never waits for the broker: each valid event is published as
an ``issue_invoice_task`` message on the consumer's own channel in confirm mode, and the event is acked
only when the broker confirms that publish (``basic.ack``, often ``multiple``), or requeued on a
``basic.nack``. If the connection drops first, the unacked events come back from the broker (at least
once; the task is idempotent).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any

import amqp
from celery import bootsteps
from kombu import Consumer, Producer

from billing.config import load_settings
from billing.errors import InvalidEventError
from billing.events import rental_finished_parse
from billing.services import dead_letter_headers
from billing.topology import (
    DEAD_LETTER_EXCHANGE,
    RENTAL_FINISHED_ROUTING_KEY,
    rental_finished_queue,
    tasks_queue,
    topology_declare,
)

logger = logging.getLogger(__name__)

ISSUE_INVOICE_TASK = "billing.issue_invoice_task"
HANDOVER_RETRY_DELAY_SECONDS = 1.0


def rental_finished_receive(
    *,
    message: Any,
    forward: Callable[[dict[str, Any], Any], None],
    dead_letter: Callable[..., None],
    retry_delay: float = HANDOVER_RETRY_DELAY_SECONDS,
) -> str:
    """Handle one delivery; never raises (an exception here would restart the worker's consumer).

    valid -> ``forward(event, message)``, which acks the message once the hand-over is confirmed;
    invalid -> ``dead_letter(body=, reason=, message_id=, content_type=)`` then ack; broker trouble while
    handing over -> requeue after ``retry_delay``.
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
            message.ack()
            return "dead-lettered"
        forward(event, message)
        return "forwarded"
    except Exception:
        logger.exception("could not hand over a rental.finished message; requeueing it")
        time.sleep(retry_delay)
        try:
            message.reject(requeue=True)
        except Exception:
            logger.exception("requeue failed; the broker redelivers the message when the channel closes")
        return "requeued"


class ConfirmedHandover:
    """Settles source messages when the broker confirms the publishes made on ``channel``.

    ``channel`` must be in confirm mode; its publish sequence numbers start at 1 after ``confirm.select``
    and the broker confirms them in any grouping (``multiple`` covers every number up to the tag).
    """

    def __init__(self) -> None:
        self.sequence = 0
        self.pending: OrderedDict[int, Any] = OrderedDict()

    def published(self, message: Any) -> None:
        """Call right after each publish on the channel, with the message it hands over (or None)."""
        self.sequence += 1
        self.pending[self.sequence] = message

    def _settled(self, delivery_tag: int, multiple: bool) -> list[Any]:
        if not multiple:
            found = self.pending.pop(delivery_tag, None)
            return [] if found is None else [found]
        done = []
        while self.pending and next(iter(self.pending)) <= delivery_tag:
            done.append(self.pending.popitem(last=False)[1])
        return done

    def on_ack(self, delivery_tag: int, multiple: bool = False) -> None:
        for message in self._settled(delivery_tag, multiple):
            if message is not None:
                message.ack()

    def on_nack(self, delivery_tag: int, multiple: bool = False) -> None:
        for message in self._settled(delivery_tag, multiple):
            if message is None:
                continue
            logger.warning("the broker refused a task hand-over; requeueing the rental.finished event")
            message.reject(requeue=True)


class RentalFinishedConsumerStep(bootsteps.ConsumerStep):
    """Declares the billing topology and consumes ``billing.rental-finished`` on its own channel."""

    def __init__(self, parent, **kwargs):
        super().__init__(parent, **kwargs)
        self.app = parent.app
        self.producer: Producer | None = None
        self.handover: ConfirmedHandover | None = None
        self.handing_over: Any = None  # the event message whose task is being published
        self.arrived: deque[Any] = deque()
        self.receiving = False

    def get_consumers(self, channel):
        topology_declare(channel)
        # Declared here, once: a declaration while handing over would wait for the broker inside the
        # event loop (and could take deliveries for this consumer in the middle of the callback).
        tasks_queue.bind(channel).declare()
        # A connection opened with confirm_publish makes basic_publish wait for each confirm; this channel
        # publishes without waiting and settles the events from the confirms instead. Every basic.publish
        # on it is counted, so the sequence numbers always match the broker's.
        self.handover = handover = ConfirmedHandover()
        publish = amqp.Channel.basic_publish.__get__(channel)

        def counted_publish(*args, **kwargs):
            result = publish(*args, **kwargs)
            handover.published(self.handing_over)
            self.handing_over = None
            return result

        channel.basic_publish = counted_publish
        channel.confirm_select()
        channel.events["basic_ack"].add(handover.on_ack)
        channel.events["basic_nack"].add(handover.on_nack)
        self.producer = Producer(channel)
        return [
            Consumer(
                channel,
                queues=[rental_finished_queue],
                on_message=self.on_message,
                prefetch_count=load_settings().prefetch_count,
            )
        ]

    def on_message(self, message) -> None:
        # py-amqp's basic_publish drains pending frames first, which can deliver the next event while this
        # one is being handed over: such a nested delivery is queued and handled after the current one.
        self.arrived.append(message)
        if self.receiving:
            return
        self.receiving = True
        try:
            while self.arrived:
                rental_finished_receive(
                    message=self.arrived.popleft(), forward=self.forward, dead_letter=self.dead_letter
                )
        finally:
            self.receiving = False

    def forward(self, event: dict[str, Any], message: Any) -> None:
        self.handing_over = message
        try:
            self.app.send_task(
                ISSUE_INVOICE_TASK,
                args=(event,),
                producer=self.producer,
                retry=False,
                declare=[],
                # saferepr of the whole event (for logs) costs the event loop more than the publish itself
                argsrepr=f"(rental.finished {event['event_id']},)",
            )
        finally:
            self.handing_over = None

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
