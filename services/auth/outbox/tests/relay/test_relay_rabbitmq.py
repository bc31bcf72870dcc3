"""Real boundary: the relay (outbox/relay.py, the same file as rentals', whose tests cover its batch confirms,
returns, nacks and crashes) publishes auth's events to RabbitMQ (AMQP_URL) and they match the contracts."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pika
import pytest
from accounts.services import user_register, user_set_active
from core.amqp import StopFlag, amqp_user
from django.conf import settings
from django.db import connection, transaction

from outbox.models import OutboxEvent
from outbox.relay import OutboxRelay

AMQP_URL = os.environ.get("AMQP_URL")
needs_broker = pytest.mark.skipif(not AMQP_URL, reason="AMQP_URL not set: no RabbitMQ to test against")
SERVICE_DIR = Path(__file__).resolve().parents[3]
UNREACHABLE = "amqp://guest:guest@127.0.0.1:1/%2F"


@pytest.fixture
def probe_queue():
    """A private queue bound to auth.events; returns a function that takes what arrived (in order)."""
    connection_ = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    channel = connection_.channel()
    channel.exchange_declare(exchange="auth.events", exchange_type="topic", durable=True)
    queue = channel.queue_declare(queue="", exclusive=True, auto_delete=True).method.queue
    channel.queue_bind(queue=queue, exchange="auth.events", routing_key="user.*")

    def drain(count: int, timeout: float = 30.0) -> list[tuple]:
        received: list[tuple] = []
        deadline = time.monotonic() + timeout
        while len(received) < count and time.monotonic() < deadline:
            method, properties, body = channel.basic_get(queue=queue, auto_ack=True)
            if method is None:
                connection_.sleep(0.05)
                continue
            received.append((method, properties, json.loads(body)))
        return received

    yield drain
    connection_.close()


def _register(prefix: str):
    return user_register(
        name="Relay Test",
        email=f"{prefix}-{uuid.uuid4().hex[:8]}@example.com",
        password="relay-pass-word-1",
        client_ip="192.0.2.1",
    )


@needs_broker
@pytest.mark.django_db(transaction=True)  # a relay pass runs its own transactions (and may reconnect)
def test_one_relay_pass_delivers_contract_valid_events_with_batch_confirms(contract_validate, probe_queue):
    user = _register("relay")
    user_set_active(user_id=user.id, is_active=False)
    user_set_active(user_id=user.id, is_active=True)

    relay = OutboxRelay(amqp_url=AMQP_URL)
    relay.connect()
    try:
        assert relay.publish_batch() == 3  # one wait for the confirms of all three
        assert relay.publish_batch() == 0
    finally:
        relay.close()
    received = probe_queue(3)

    assert [m.routing_key for m, _, _ in received] == [
        "user.registered",
        "user.deactivated",
        "user.reactivated",
    ]
    events = list(OutboxEvent.objects.order_by("id"))
    for event, (method, properties, envelope) in zip(events, received, strict=True):
        contract_validate(envelope)
        assert envelope == event.payload
        assert properties.message_id == envelope["event_id"] == str(event.event_id)
        assert properties.content_type == "application/json"
        assert properties.user_id == amqp_user(AMQP_URL)  # accepted by RabbitMQ: the connection's user
        assert properties.app_id == "auth"
        assert properties.delivery_mode == 2
        assert envelope["data"]["user_id"] == str(user.id)
        assert method.exchange == "auth.events"
    assert all(event.published_at is not None and event.attempts == 1 for event in events)


@needs_broker
@pytest.mark.django_db(transaction=True)
def test_rows_locked_by_another_relay_are_skipped(probe_queue):
    first, second = _register("locked-a"), _register("locked-b")
    held = OutboxEvent.objects.get(payload__data__user_id=str(first.id))
    locked, release = threading.Event(), threading.Event()

    def other_relay() -> None:
        with transaction.atomic():
            list(OutboxEvent.objects.select_for_update().filter(id=held.id))
            locked.set()
            release.wait(10)
        connection.close()

    thread = threading.Thread(target=other_relay)
    thread.start()
    assert locked.wait(10)
    relay = OutboxRelay(amqp_url=AMQP_URL)
    relay.connect()
    try:
        assert relay.publish_batch() == 1
    finally:
        relay.close()
        release.set()
        thread.join(10)
    [(_, _, envelope)] = probe_queue(1)
    assert envelope["data"]["user_id"] == str(second.id)
    assert OutboxEvent.objects.get(id=held.id).published_at is None


@pytest.mark.django_db(transaction=True)
def test_relay_keeps_rows_while_broker_is_unreachable_and_stops_on_request():
    _register("down")
    stop = StopFlag()
    relay = OutboxRelay(amqp_url=UNREACHABLE, stop=stop)
    thread = threading.Thread(target=relay.run)
    thread.start()
    time.sleep(1.5)  # a few reconnect attempts with backoff
    stop.stop()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert OutboxEvent.objects.filter(published_at__isnull=True).count() == 1


@needs_broker
@pytest.mark.django_db(transaction=True)
def test_relay_is_woken_by_notify_instead_of_waiting_for_its_poll(probe_queue):
    stop = StopFlag()
    relay = OutboxRelay(amqp_url=AMQP_URL, stop=stop)
    relay.poll_seconds = 3600  # the fallback poll cannot be what delivers the event below
    thread = threading.Thread(target=relay.run)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not relay.listener.listening and time.monotonic() < deadline:
            time.sleep(0.05)
        assert relay.listener.listening
        user = _register("notify")
        [(_, _, envelope)] = probe_queue(1)
        assert envelope["data"]["user_id"] == str(user.id)
    finally:
        stop.stop()
        thread.join(timeout=15)
    assert not thread.is_alive()


def _service_env(amqp_url: str, **extra: str) -> dict[str, str]:
    db = settings.DATABASES["default"]
    database_url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("OUTBOX_")}
    return env | {
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "false",
        "LOG_LEVEL": "INFO",
        "DATABASE_URL": database_url,  # the test database, never the running stack's
        "AMQP_URL": amqp_url,
        **extra,
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
    amqp_url = AMQP_URL if broker == "real" else UNREACHABLE
    connection.close()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "outbox_relay"],
        cwd=SERVICE_DIR,
        env=_service_env(amqp_url, OUTBOX_RELAY_POLL_SECONDS="0.2"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _run_until(process, "outbox relay connected" if broker == "real" else "broker unavailable")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
        assert "outbox relay stopped" in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()


@needs_broker
@pytest.mark.django_db(transaction=True)
def test_relay_command_once_publishes_what_is_pending_and_exits(probe_queue):
    user = _register("once")
    connection.close()
    result = subprocess.run(
        [sys.executable, "manage.py", "outbox_relay", "--once"],
        cwd=SERVICE_DIR,
        env=_service_env(AMQP_URL),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "published 1 event(s)" in result.stdout
    [(_, _, envelope)] = probe_queue(1)
    assert envelope["data"]["user_id"] == str(user.id)
    assert not OutboxEvent.objects.filter(published_at__isnull=True).exists()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, (0.5, 100)),
        ({"OUTBOX_RELAY_POLL_SECONDS": "0.3", "OUTBOX_RELAY_BATCH_SIZE": "50"}, (0.3, 50)),
        # the former names, still read for one release ...
        ({"OUTBOX_POLL_INTERVAL_SECONDS": "0.2", "OUTBOX_BATCH_SIZE": "7"}, (0.2, 7)),
        # ... and the new names win when both are set
        (
            {
                "OUTBOX_POLL_INTERVAL_SECONDS": "0.2",
                "OUTBOX_RELAY_POLL_SECONDS": "0.3",
                "OUTBOX_BATCH_SIZE": "7",
            },
            (0.3, 7),
        ),
    ],
)
def test_relay_settings_read_the_former_names_as_aliases(env, expected):
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.OUTBOX_RELAY_POLL_SECONDS, settings.OUTBOX_RELAY_BATCH_SIZE)",
        ],
        cwd=SERVICE_DIR,
        env=_service_env(UNREACHABLE, DJANGO_SECRET_KEY="x", **env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    poll, batch = result.stdout.split()
    assert (float(poll), int(batch)) == expected
