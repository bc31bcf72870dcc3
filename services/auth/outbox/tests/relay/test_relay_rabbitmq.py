"""Real boundary: the relay publishes to RabbitMQ (AMQP_URL) and the events match the contracts."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from accounts.services import user_register, user_set_active
from django.conf import settings
from django.db import connection

from outbox.models import OutboxEvent
from outbox.relay import OutboxRelay, amqp_user, channel_open, outbox_publish_pending

AMQP_URL = os.environ.get("AMQP_URL")
needs_broker = pytest.mark.skipif(not AMQP_URL, reason="AMQP_URL not set: no RabbitMQ to test against")
SERVICE_DIR = Path(__file__).resolve().parents[3]


@needs_broker
@pytest.mark.django_db
def test_one_relay_pass_delivers_contract_valid_events(contract_validate):
    connection_, channel = channel_open(amqp_url=AMQP_URL, exchange="auth.events")
    try:
        queue = channel.queue_declare(queue="", exclusive=True, auto_delete=True).method.queue
        channel.queue_bind(queue=queue, exchange="auth.events", routing_key="user.*")

        user = user_register(
            name="Relay Test",
            email=f"relay-{uuid.uuid4().hex[:8]}@example.com",
            password="relay-pass-word-1",
            client_ip="192.0.2.1",
        )
        user_set_active(user_id=user.id, is_active=False)
        user_set_active(user_id=user.id, is_active=True)

        assert (
            outbox_publish_pending(channel=channel, exchange="auth.events", user_id=amqp_user(AMQP_URL)) == 3
        )

        received = []
        deadline = time.monotonic() + 10
        while len(received) < 3 and time.monotonic() < deadline:
            method, properties, body = channel.basic_get(queue=queue, auto_ack=True)
            if method is None:
                connection_.sleep(0.1)
                continue
            received.append((method, properties, json.loads(body)))
    finally:
        connection_.close()

    assert [m.routing_key for m, _, _ in received] == [
        "user.registered",
        "user.deactivated",
        "user.reactivated",
    ]
    for method, properties, envelope in received:
        contract_validate(envelope)
        assert properties.content_type == "application/json"
        assert properties.user_id == amqp_user(AMQP_URL)  # accepted by RabbitMQ: the connection's user
        assert properties.delivery_mode == 2
        assert properties.message_id == envelope["event_id"]
        assert envelope["data"]["user_id"] == str(user.id)
        assert method.exchange == "auth.events"
    assert not OutboxEvent.objects.filter(published_at__isnull=True).exists()


def _relay_env(amqp_url: str) -> dict[str, str]:
    db = settings.DATABASES["default"]
    database_url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "false",
        "LOG_LEVEL": "INFO",
        "DATABASE_URL": database_url,  # the test database, never the running stack's
        "AMQP_URL": amqp_url,
        "OUTBOX_POLL_INTERVAL_SECONDS": "0.2",
    }


def _run_until(process: subprocess.Popen, needle: str, timeout: float = 30) -> str:
    seen = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        seen += line
        if needle in line:
            return seen
    raise AssertionError(f"{needle!r} not seen; output so far:\n{seen}")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "broker",
    [pytest.param("real", marks=needs_broker), "unreachable"],
)
def test_relay_command_exits_cleanly_on_sigterm(broker):
    amqp_url = AMQP_URL if broker == "real" else "amqp://guest:guest@127.0.0.1:1/%2F"
    connection.close()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "outbox_relay"],
        cwd=SERVICE_DIR,
        env=_relay_env(amqp_url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _run_until(process, "outbox relay connected" if broker == "real" else "reconnecting")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
        assert "outbox relay stopped" in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()


@needs_broker
@pytest.mark.django_db(transaction=True)
def test_relay_is_woken_by_notify_instead_of_waiting_for_its_poll():
    connection_, channel = channel_open(amqp_url=AMQP_URL, exchange="auth.events")
    queue = channel.queue_declare(queue="", exclusive=True, auto_delete=True).method.queue
    channel.queue_bind(queue=queue, exchange="auth.events", routing_key="user.*")
    relay = OutboxRelay(amqp_url=AMQP_URL, poll_interval=3600)  # the poll cannot deliver what follows
    thread = threading.Thread(target=relay.run)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not relay.listener.listening and time.monotonic() < deadline:
            time.sleep(0.05)
        assert relay.listener.listening
        user = user_register(
            name="Notify Test",
            email=f"notify-{uuid.uuid4().hex[:8]}@example.com",
            password="relay-pass-word-1",
            client_ip="192.0.2.1",
        )
        body = None
        deadline = time.monotonic() + 30
        while body is None and time.monotonic() < deadline:
            method, _, body = channel.basic_get(queue=queue, auto_ack=True)
            if method is None:
                connection_.sleep(0.05)
        assert body is not None
        assert json.loads(body)["data"]["user_id"] == str(user.id)
    finally:
        relay.stop()
        thread.join(timeout=15)
        connection_.close()
    assert not thread.is_alive()
