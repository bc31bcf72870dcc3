"""Settings from the environment (docs/ARCHITECTURE.md, "Environment contract": billing-worker)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


# The broker user each producer publishes as (the local stack's users); AMQP_PRODUCER_USERS
# ("producer=user,...") overrides some or all, e.g. with the one user of a single-user deployment.
DEFAULT_PRODUCER_USERS = {"auth": "auth", "rentals": "rentals", "billing": "billing"}


def producer_users_parse(raw: str) -> dict[str, str]:
    given = (item.partition("=") for item in raw.split(",") if item.strip())
    return DEFAULT_PRODUCER_USERS | {producer.strip(): user.strip() for producer, _, user in given}


def amqp_user(url: str) -> str:
    """The user of an AMQP URL: what this process's publishes carry as their user_id property (RabbitMQ
    refuses a user_id other than the publishing connection's user)."""
    return unquote(urlsplit(url).username or "guest")


@dataclass(frozen=True, slots=True)
class Settings:
    amqp_url: str
    s3_endpoint_url: str | None
    s3_region: str
    invoices_bucket: str
    reconcile_interval_seconds: int
    reconcile_after_seconds: int
    prefetch_count: int
    batch_size: int
    batch_threads: int
    child_nice: int
    producer_users: dict[str, str]


def load_settings() -> Settings:
    return Settings(
        amqp_url=os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F"),
        s3_endpoint_url=os.environ.get("AWS_ENDPOINT_URL_S3") or None,
        s3_region=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        invoices_bucket=os.environ.get("INVOICES_BUCKET", "velo-invoices"),
        reconcile_interval_seconds=_int("RECONCILE_INTERVAL_SECONDS", 60),
        reconcile_after_seconds=_int("RECONCILE_AFTER_SECONDS", 180),
        prefetch_count=_int("BILLING_PREFETCH", 512),
        batch_size=_int("BILLING_BATCH_SIZE", 128),
        batch_threads=_int("BILLING_BATCH_THREADS", 32),
        child_nice=_int("BILLING_CHILD_NICE", 10),
        producer_users=producer_users_parse(os.environ.get("AMQP_PRODUCER_USERS", "")),
    )
