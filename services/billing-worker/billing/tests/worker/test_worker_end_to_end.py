"""A real ``celery -A billing worker`` (+ beat) against real RabbitMQ, SeaweedFS and the SMTP sink.

Every exchange and queue is suffixed with a per-run BILLING_AMQP_NAMESPACE and the invoices go to a
per-run bucket, so this never shares messages with a running stack on the same broker.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pika
import pytest

from billing.config import amqp_user
from billing.contracts import contract_errors
from billing.integrations.s3 import s3_client_create
from billing.tests.conftest import CONTRACTS, INVALID_RENTAL_FINISHED, load_example
from billing.tests.real import mails_to, require_env, wait_until

pytestmark = require_env(
    "AMQP_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "MAIL_DIR",
)

SERVICE_DIR = Path(__file__).resolve().parents[3]
CELERY = str(Path(sys.executable).with_name("celery"))


class Stack:
    def __init__(self, tmp_path: Path, **env: str):
        self.ns = f"t{uuid.uuid4().hex[:10]}"
        self.bucket = f"billing-it-{self.ns}"
        self.hostname = f"billing-{self.ns}@localhost"
        self.env = (
            os.environ
            | {
                "BILLING_AMQP_NAMESPACE": self.ns,
                "INVOICES_BUCKET": self.bucket,
                "CONTRACTS_DIR": str(CONTRACTS),
                "RECONCILE_INTERVAL_SECONDS": "1",
                "RECONCILE_AFTER_SECONDS": "180",
                "EMAIL_FROM": "Velo <no-reply@velo.example>",
                # The test publishes rental.finished as AMQP_URL's user: the worker takes it as rentals'.
                "AMQP_PRODUCER_USERS": f"rentals={amqp_user(os.environ['AMQP_URL'])}",
            }
            | env
        )
        self.tmp_path = tmp_path
        self.procs: list[subprocess.Popen] = []
        self.logs: list[Path] = []
        self.connection = pika.BlockingConnection(pika.URLParameters(os.environ["AMQP_URL"]))
        self.channel = self.connection.channel()
        self.s3 = s3_client_create(
            endpoint_url=os.environ["AWS_ENDPOINT_URL_S3"],
            region=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        )

    def name(self, base: str) -> str:
        return f"{base}.{self.ns}"

    def start(self, *args: str, log_name: str) -> subprocess.Popen:
        log = self.tmp_path / f"{log_name}.log"
        self.logs.append(log)
        proc = subprocess.Popen(
            [CELERY, "-A", "billing", *args],
            cwd=SERVICE_DIR,
            env=self.env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs.append(proc)
        return proc

    def capture(self, routing_key: str) -> str:
        """An exclusive queue on billing.events.<ns> that collects ``routing_key`` messages."""
        queue = self.channel.queue_declare(queue="", exclusive=True).method.queue
        self.channel.exchange_declare(
            exchange=self.name("billing.events"), exchange_type="topic", durable=True
        )
        self.channel.queue_bind(queue=queue, exchange=self.name("billing.events"), routing_key=routing_key)
        return queue

    def drain(self, queue: str) -> list[tuple]:
        got = []
        while True:
            method, props, body = self.channel.basic_get(queue=queue, auto_ack=True)
            if not method:
                return got
            got.append((props, body))

    def publish_rental_finished(self, body: bytes, message_id: str | None = None) -> None:
        self.channel.basic_publish(
            exchange=self.name("rentals.events"),
            routing_key="rental.finished",
            body=body,
            properties=pika.BasicProperties(
                content_type="application/json",
                delivery_mode=2,
                message_id=message_id or str(uuid.uuid4()),
                user_id=amqp_user(os.environ["AMQP_URL"]),
            ),
        )

    def consumer_count(self) -> int:
        try:
            ok = self.channel.queue_declare(queue=self.name("billing.rental-finished"), passive=True)
        except pika.exceptions.ChannelClosedByBroker:
            self.channel = self.connection.channel()
            return 0
        return ok.method.consumer_count

    def objects(self) -> list[str]:
        try:
            return sorted(o["Key"] for o in self.s3.list_objects_v2(Bucket=self.bucket).get("Contents", []))
        except self.s3.exceptions.NoSuchBucket:
            return []

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def cleanup(self) -> None:
        channel = self.connection.channel()
        for queue in ("billing.rental-finished", "billing.rental-finished.dlq", "billing.tasks"):
            channel.queue_delete(queue=self.name(queue))
        for exchange in ("rentals.events", "billing.events", "billing.dlx", "billing.tasks"):
            channel.exchange_delete(exchange=self.name(exchange))
        self.connection.close()
        for key in self.objects():
            self.s3.delete_object(Bucket=self.bucket, Key=key)
        with contextlib.suppress(self.s3.exceptions.NoSuchBucket):
            self.s3.delete_bucket(Bucket=self.bucket)

    def log_text(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-6000:]}" for p in self.logs if p.exists()
        )


@contextlib.contextmanager
def running_worker(tmp_path: Path, **env: str):
    s = Stack(tmp_path, **env)
    s.start(
        "worker",
        "--loglevel=INFO",
        "--concurrency=2",
        f"--hostname={s.hostname}",
        "--without-gossip",
        "--without-mingle",
        log_name="worker",
    )
    try:
        wait_until(lambda: s.consumer_count() >= 1, timeout=60, interval=0.5, what="the worker's consumer")
        yield s
    except BaseException:
        print(s.log_text())
        raise
    finally:
        s.stop()
        s.cleanup()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with running_worker(tmp_path_factory.mktemp("billing-worker")) as s:
        yield s


def rental_finished(rental_id: str, email: str) -> dict:
    event = load_example(CONTRACTS / "examples" / "rental.finished" / "v1-basic.json")
    event["event_id"] = str(uuid.uuid4())
    event["data"]["rental_id"] = rental_id
    event["data"]["user_email"] = email
    return event


def test_worker_answers_inspect_ping(stack):
    result = subprocess.run(
        [CELERY, "-A", "billing", "inspect", "ping", "-d", stack.hostname, "--timeout", "5"],
        cwd=SERVICE_DIR,
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "pong" in result.stdout


def test_duplicate_rental_finished_makes_one_invoice_same_event(stack):
    issued_queue = stack.capture("invoice.issued")
    rental_id = str(uuid.uuid4())
    email = f"rider-{uuid.uuid4().hex[:10]}@example.com"
    event = rental_finished(rental_id, email)

    body = json.dumps(event).encode()
    stack.publish_rental_finished(body)
    stack.publish_rental_finished(body)  # redelivery (same event)
    second = dict(event, event_id=str(uuid.uuid4()))  # re-emitted by reconciliation (new event id)
    stack.publish_rental_finished(json.dumps(second).encode())

    received: list[tuple] = []
    wait_until(
        lambda: received.extend(stack.drain(issued_queue)) or len(received) >= 3, what="3 invoice.issued"
    )
    events = [json.loads(b) for _, b in received]
    for issued in events:
        assert contract_errors(issued, event_type="invoice.issued") == []
    assert len({json.dumps(e, sort_keys=True) for e in events}) == 1, events
    data = events[0]["data"]
    assert data["rental_id"] == rental_id
    assert data["amount"] == 700 and data["currency"] == "EUR"
    assert {p.message_id for p, _ in received} == {events[0]["event_id"]}
    assert all(p.delivery_mode == 2 for p, _ in received)

    ym = event["data"]["ended_at"][:7].replace("-", "/")
    key = f"invoices/{ym}/{rental_id}.json"
    assert data["s3_key"] == key
    assert [k for k in stack.objects() if rental_id in k] == sorted([key, key.replace(".json", ".html")])
    stored = json.loads(stack.s3.get_object(Bucket=stack.bucket, Key=key)["Body"].read())
    assert stored["invoice_id"] == data["invoice_id"]
    html = stack.s3.get_object(Bucket=stack.bucket, Key=key.replace(".json", ".html"))
    assert html["ContentType"].startswith("text/html")
    # Receipts are the notifier's now: billing mails nothing.
    time.sleep(1.0)
    assert mails_to(email) == []


def test_poison_messages_go_to_the_dlq_and_do_not_block_the_queue(stack):
    issued_queue = stack.capture("invoice.issued")
    poison = [b"{not json", *(p.read_bytes() for p in INVALID_RENTAL_FINISHED)]
    for body in poison:
        stack.publish_rental_finished(body, message_id=f"poison-{uuid.uuid4()}")
    rental_id = str(uuid.uuid4())
    stack.publish_rental_finished(json.dumps(rental_finished(rental_id, "ok@example.com")).encode())

    received: list[tuple] = []
    wait_until(
        lambda: received.extend(stack.drain(issued_queue)) or received, what="invoice.issued after poison"
    )
    assert json.loads(received[0][1])["data"]["rental_id"] == rental_id

    dlq = stack.name("billing.rental-finished.dlq")
    dead: list[tuple] = []

    def collect() -> bool:
        while True:
            method, props, body = stack.channel.basic_get(queue=dlq, auto_ack=True)
            if not method:
                return len(dead) >= len(poison)
            dead.append((props, body))

    wait_until(collect, what="poison messages in the DLQ")
    assert sorted(b for _, b in dead) == sorted(poison)
    for props, _ in dead:
        assert props.headers["x-error"]
        assert props.headers["x-original-message-id"].startswith("poison-")
    reasons = " ".join(p.headers["x-error"] for p, _ in dead)
    assert "not JSON" in reasons and "schema rental.finished.v1" in reasons


def test_beat_requests_reconciliation(stack):
    queue = stack.capture("billing.reconciliation_requested")
    stack.start(
        "beat",
        "--loglevel=INFO",
        f"--schedule={stack.tmp_path / 'beat-schedule'}",
        "--pidfile=",
        log_name="beat",
    )
    received: list[tuple] = []
    wait_until(
        lambda: received.extend(stack.drain(queue)) or received, timeout=30, what="reconciliation event"
    )
    event = json.loads(received[0][1])
    assert contract_errors(event, event_type="billing.reconciliation_requested") == []
    assert event["data"]["older_than_seconds"] == 180
    assert received[0][0].message_id == event["event_id"]
