"""AMQP plumbing shared by the services' relays and consumers: connection parameters, the publisher's user,
a stop flag for signal handlers and a channel that confirms a batch of publishes with one wait."""

import time
from dataclasses import dataclass, field

import pika
from django.conf import settings
from pika.exceptions import AMQPError


def connection_parameters(url: str | None = None) -> pika.URLParameters:
    params = pika.URLParameters(url or settings.AMQP_URL)
    params.heartbeat = 30
    params.blocked_connection_timeout = 30
    params.socket_timeout = 5
    params.connection_attempts = 1
    params.client_properties = {"connection_name": f"velo-{settings.EVENT_PRODUCER}"}
    return params


def amqp_user(url: str | None = None) -> str:
    """The broker user of an AMQP URL: what this process's publishes carry as their user_id property
    (RabbitMQ refuses a user_id other than the connection's user)."""
    return pika.URLParameters(url or settings.AMQP_URL).credentials.username


class StopFlag:
    """Set from a signal handler; long-running loops poll it between units of work."""

    def __init__(self) -> None:
        self.stopping = False

    def stop(self, *_args) -> None:
        self.stopping = True


class ConfirmTimeout(AMQPError):
    """The broker did not settle every publish in time (the connection is then closed and reopened)."""


@dataclass
class Settled:
    """message_ids of the publishes the broker settled: acked (stored), returned (unroutable `mandatory`
    message, then acked) or nacked (refused)."""

    acked: list[str] = field(default_factory=list)
    returned: list[str] = field(default_factory=list)
    nacked: list[str] = field(default_factory=list)


class BatchConfirmChannel:
    """A channel in publisher-confirm mode that confirms a batch with one wait instead of one per message.

    pika's BlockingChannel.confirm_delivery() makes every basic_publish wait for its own Basic.Ack (a round
    trip and ~1 ms of CPU per message). Here publish() only queues the frames; wait_for_confirms() sends them
    and waits once until the broker settled them all (RabbitMQ acks many at once with multiple=True).
    pika's blocking adapter has no API for that, so this class drives Confirm.Select, Basic.Ack/Nack and
    Basic.Return on the asynchronous pika Channel that the BlockingChannel wraps (`_impl`, and its
    `_flush_output` to run the I/O loop until a condition holds); every use of pika internals is here, and
    the outbox tests run it against a real RabbitMQ.

    Every publish needs a unique message_id: it is how a Basic.Return (which carries no delivery tag) is
    told apart. After a failure (an exception from publish or wait_for_confirms) the channel's confirm state
    is unknown: close the connection and open a new channel.
    """

    def __init__(self, connection: pika.BlockingConnection, *, timeout: float = 30.0) -> None:
        self.connection = connection
        self.channel = connection.channel()
        self._impl = self.channel._impl
        self._sequence = 0  # delivery tag of the latest publish (the broker counts from 1 after Select)
        self._pending: dict[int, str] = {}  # delivery tag -> message_id, oldest first
        self._returned: set[str] = set()
        self._settled = Settled()
        selected: list[bool] = []
        self._impl.add_on_return_callback(self._on_return)
        self._impl.confirm_delivery(
            ack_nack_callback=self._on_confirm, callback=lambda _frame: selected.append(True)
        )
        self._run_until(lambda: bool(selected), timeout)

    @property
    def unsettled(self) -> int:
        return len(self._pending)

    def exchange_declare(self, *, exchange: str, exchange_type: str) -> None:
        self.channel.exchange_declare(exchange=exchange, exchange_type=exchange_type, durable=True)

    def publish(
        self,
        *,
        exchange: str,
        routing_key: str,
        body: bytes,
        properties: pika.BasicProperties,
        mandatory: bool = False,
    ) -> None:
        """Queue one message (sent by the next wait_for_confirms); properties.message_id must be unique."""
        self._impl.basic_publish(
            exchange=exchange, routing_key=routing_key, body=body, properties=properties, mandatory=mandatory
        )
        self._sequence += 1
        self._pending[self._sequence] = properties.message_id

    def wait_for_confirms(self, *, timeout: float = 30.0) -> None:
        """Send what is queued and block until the broker settled every publish. Raises ConfirmTimeout,
        or pika's error when the channel or connection closes; take_settled() still has what was settled."""
        self._run_until(lambda: not self._pending, timeout)

    def take_settled(self) -> Settled:
        """What was settled since the last call (and forget it)."""
        settled, self._settled = self._settled, Settled()
        return settled

    def _run_until(self, ready, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        # The timer only wakes the I/O loop at the deadline; the condition below notices it.
        timer = self.connection.call_later(timeout, lambda: None)
        try:
            self.channel._flush_output(lambda: ready() or time.monotonic() >= deadline)
        finally:
            if self.connection.is_open:
                self.connection.remove_timeout(timer)
        if not ready():
            raise ConfirmTimeout(f"{len(self._pending)} publishes not confirmed within {timeout:g} s")

    def _on_return(self, _channel, _method, properties: pika.BasicProperties, _body: bytes) -> None:
        # RabbitMQ sends a mandatory message's Basic.Return before the Basic.Ack that settles it.
        self._returned.add(properties.message_id)

    def _on_confirm(self, frame) -> None:
        method = frame.method
        nacked = isinstance(method, pika.spec.Basic.Nack)
        if method.multiple:
            tags = []
            for tag in self._pending:
                if tag > method.delivery_tag:
                    break
                tags.append(tag)
        else:
            tags = [method.delivery_tag]
        for tag in tags:
            message_id = self._pending.pop(tag, None)
            if message_id is None:
                continue
            returned = message_id in self._returned
            self._returned.discard(message_id)
            if nacked:
                self._settled.nacked.append(message_id)
            elif returned:
                self._settled.returned.append(message_id)
            else:
                self._settled.acked.append(message_id)
