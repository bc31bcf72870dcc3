"""Backlog drain benchmark: publish N rental.finished events, then time a real worker draining them.

    cd services/billing-worker && source ../../.run/dev/env.sh &&
    .venv/bin/python ../../bench/velo_bench/drain_bench.py --events 2000 --concurrency 4

Run with the billing-worker's venv (it imports ``billing`` from services/billing-worker and starts that
venv's ``celery``); not imported by the rest of velo_bench, which is standard library only.

Uses a private BILLING_AMQP_NAMESPACE and bucket (cleaned up afterwards), like the end-to-end test.
The worker mails nothing (the notifier sends receipts); its pool only writes the invoice HTMLs.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pika

SERVICE_DIR = Path(__file__).resolve().parents[2] / "services" / "billing-worker"
sys.path.insert(0, str(SERVICE_DIR))

from billing.config import amqp_user, load_settings  # noqa: E402
from billing.integrations.s3 import s3_client_create  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--pool", default="prefork")
    args = parser.parse_args()

    ns = f"bench{uuid.uuid4().hex[:8]}"
    bucket = f"billing-bench-{ns}"
    user = amqp_user(os.environ["AMQP_URL"])  # publishes as rentals would, under AMQP_URL's user
    env = os.environ | {
        "BILLING_AMQP_NAMESPACE": ns,
        "INVOICES_BUCKET": bucket,
        "AMQP_PRODUCER_USERS": f"rentals={user}",
    }
    contracts = load_settings().contracts_dir
    template = json.loads((contracts / "examples" / "rental.finished" / "v1-basic.json").read_text())

    conn = pika.BlockingConnection(pika.URLParameters(os.environ["AMQP_URL"]))
    ch = conn.channel()
    ch.exchange_declare(exchange=f"rentals.events.{ns}", exchange_type="topic", durable=True)
    ch.exchange_declare(exchange=f"billing.events.{ns}", exchange_type="topic", durable=True)
    ch.exchange_declare(exchange=f"billing.dlx.{ns}", exchange_type="topic", durable=True)
    ch.queue_declare(
        queue=f"billing.rental-finished.{ns}",
        durable=True,
        arguments={
            "x-queue-type": "quorum",
            "x-dead-letter-exchange": f"billing.dlx.{ns}",
            "x-delivery-limit": 20,
        },
    )
    ch.queue_bind(
        queue=f"billing.rental-finished.{ns}", exchange=f"rentals.events.{ns}", routing_key="rental.finished"
    )
    issued = ch.queue_declare(queue="", exclusive=True).method.queue
    ch.queue_bind(queue=issued, exchange=f"billing.events.{ns}", routing_key="invoice.issued")

    t0 = time.monotonic()
    for _ in range(args.events):
        event = json.loads(json.dumps(template))
        event["event_id"] = str(uuid.uuid4())
        event["data"]["rental_id"] = str(uuid.uuid4())
        event["data"]["user_email"] = f"bench-{ns}@example.com"
        ch.basic_publish(
            exchange=f"rentals.events.{ns}",
            routing_key="rental.finished",
            body=json.dumps(event).encode(),
            properties=pika.BasicProperties(content_type="application/json", delivery_mode=2, user_id=user),
        )
    print(f"published {args.events} events in {time.monotonic() - t0:.1f}s")

    log = open(Path(tempfile.gettempdir()) / f"drain-bench-{ns}.log", "wb")  # noqa: SIM115
    worker = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("celery")),
            "-A",
            "billing",
            "worker",
            "--loglevel=WARNING",
            f"--concurrency={args.concurrency}",
            f"--pool={args.pool}",
            f"--hostname=bench-{ns}@%h",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=SERVICE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    got = 0
    first = None
    start = time.monotonic()
    try:
        while got < args.events and time.monotonic() - start < 600:
            method, _, _ = ch.basic_get(queue=issued, auto_ack=True)
            if method:
                got += 1
                first = first or time.monotonic()
            else:
                conn.sleep(0.01)
        end = time.monotonic()
        print(
            f"drained {got} invoices in {end - start:.1f}s from worker start "
            f"({got / (end - start):.0f}/s); {got / (end - first):.0f}/s after the first invoice"
        )
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
        for q in (
            f"billing.rental-finished.{ns}",
            f"billing.rental-finished.dlq.{ns}",
            f"billing.tasks.{ns}",
        ):
            ch.queue_delete(queue=q)
        for x in ("rentals.events", "billing.events", "billing.dlx", "billing.tasks"):
            ch.exchange_delete(exchange=f"{x}.{ns}")
        conn.close()
        s = load_settings()
        s3 = s3_client_create(endpoint_url=s.s3_endpoint_url, region=s.s3_region)
        paginator = s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            for i in range(0, len(keys), 1000):
                s3.delete_objects(Bucket=bucket, Delete={"Objects": keys[i : i + 1000]})
        s3.delete_bucket(Bucket=bucket)


if __name__ == "__main__":
    main()
