"""In-memory stand-ins for the boundaries (S3, AMQP publisher), used by unit tests only."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from billing.errors import TransientError


class FakeStorage:
    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}
        self.fail_next: list[str] = []  # operation names that raise TransientError once

    def _maybe_fail(self, op: str) -> None:
        if op in self.fail_next:
            self.fail_next.remove(op)
            raise TransientError(f"fake S3 {op} outage")

    def put_if_absent(self, *, key: str, body: bytes, content_type: str) -> bool:
        self._maybe_fail("put_if_absent")
        if key in self.objects:
            return False
        self.objects[key] = (body, content_type)
        return True

    def put(self, *, key: str, body: bytes, content_type: str) -> None:
        self._maybe_fail("put")
        self.objects[key] = (body, content_type)

    def get_json(self, *, key: str) -> dict | None:
        self._maybe_fail("get_json")
        found = self.objects.get(key)
        return None if found is None else json.loads(found[0])

    def exists(self, *, key: str) -> bool:
        self._maybe_fail("exists")
        return key in self.objects


@dataclass
class Published:
    exchange: str
    routing_key: str
    body: bytes
    message_id: str
    headers: dict | None
    content_type: str

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class FakePublisher:
    messages: list[Published] = field(default_factory=list)
    failures: int = 0

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
        if self.failures:
            self.failures -= 1
            raise TransientError("fake broker outage")
        self.messages.append(Published(exchange, routing_key, body, message_id, headers, content_type))

    def publish_event(self, *, exchange: str, event: dict, headers: dict | None = None) -> None:
        self.publish(
            exchange=exchange,
            routing_key=event["event_type"],
            body=json.dumps(event).encode(),
            message_id=event["event_id"],
            message_type=event["event_type"],
            headers=headers,
        )


@dataclass
class FakeMessage:
    """Enough of a py-amqp delivery for the batch consumer."""

    body: bytes
    content_type: str | None = "application/json"
    properties: dict = field(default_factory=dict)
    delivery_info: dict = field(default_factory=dict)
    delivery_tag: int = 1
    acked: bool = False
    rejected: bool | None = None  # requeue flag when rejected

    def ack(self) -> None:
        self.acked = True

    def reject(self, requeue: bool = False) -> None:
        self.rejected = requeue
