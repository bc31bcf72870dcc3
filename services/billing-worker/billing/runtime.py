"""Per-process boundary clients, created lazily after the prefork pool forked (never shared across
processes or threads) and reused for every message: one boto3 client, one pika channel, one SMTP link."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

from billing.config import load_settings
from billing.integrations.amqp import EventPublisher
from billing.integrations.s3 import InvoiceStorage, s3_client_create
from billing.topology import PUBLISHER_EXCHANGES

_local = threading.local()


def _get(name: str, factory):
    if getattr(_local, "pid", None) != os.getpid():
        _local.__dict__.clear()
        _local.pid = os.getpid()
    value = getattr(_local, name, None)
    if value is None:
        value = factory()
        setattr(_local, name, value)
    return value


# Threads of executor() share this thread's S3 client (boto3 clients are thread-safe): one connection each.
EXECUTOR_THREADS = 8


def storage() -> InvoiceStorage:
    def make() -> InvoiceStorage:
        s = load_settings()
        client = s3_client_create(
            endpoint_url=s.s3_endpoint_url, region=s.s3_region, max_pool_connections=EXECUTOR_THREADS + 2
        )
        return InvoiceStorage(client=client, bucket=s.invoices_bucket)

    return _get("storage", make)


def publisher() -> EventPublisher:
    return _get(
        "publisher", lambda: EventPublisher(amqp_url=load_settings().amqp_url, exchanges=PUBLISHER_EXCHANGES)
    )


def executor() -> ThreadPoolExecutor:
    """Threads for parallel S3 requests of one task (e.g. the HTML of a batch of receipts)."""
    return _get("executor", lambda: ThreadPoolExecutor(max_workers=EXECUTOR_THREADS, thread_name_prefix="s3"))
