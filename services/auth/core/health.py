"""Dependency probes used by /readyz: PostgreSQL and an AMQP protocol handshake with the broker."""

import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection

AMQP_PROTOCOL_HEADER = b"AMQP\x00\x00\x09\x01"
_FRAME_METHOD = 1


def database_check() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def broker_check(*, amqp_url: str | None = None, timeout: float = 2.0) -> None:
    """Open a TCP connection and expect a Connection.Start frame in answer to the protocol header."""
    parts = urlsplit(amqp_url or settings.AMQP_URL)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or (5671 if parts.scheme == "amqps" else 5672)
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        sock.sendall(AMQP_PROTOCOL_HEADER)
        first = sock.recv(7)
    if len(first) < 1 or first[0] != _FRAME_METHOD:
        raise ConnectionError("broker did not answer with an AMQP Connection.Start frame")
