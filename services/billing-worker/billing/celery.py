"""The Celery application: ``celery -A billing worker`` / ``celery -A billing beat``.

Message flow: ``rentals.events`` --rental.finished--> quorum queue ``billing.rental-finished``, read in
batches by the consumer thread of RentalFinishedConsumerStep in the worker's main process (see
billing/consumers.py: invoice JSONs to S3, ``invoice.issued`` confirmed, one receipts task per batch). The
prefork pool runs Celery's own queue ``billing.tasks`` (receipts, S3-failure retries, reconciliation) with
acks-late, so Celery's retries (exponential backoff) cover S3, broker and SMTP outages. Pool processes run
at a lower CPU priority (``BILLING_CHILD_NICE``): when the cores are short, invoices and billing status go
first and receipts trail.
"""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_process_init

from billing.config import load_settings
from billing.logs import logging_configure
from billing.topology import TASKS_QUEUE, tasks_queue

settings = load_settings()
logging_configure()

app = Celery("billing", include=["billing.tasks"])
app.conf.update(
    broker_url=settings.amqp_url,
    # Every Celery publish (task hand-over, retries, beat) waits for the broker's confirm.
    broker_transport_options={"confirm_publish": True},
    broker_connection_retry_on_startup=True,
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    event_serializer="json",
    task_ignore_result=True,
    task_acks_late=True,
    worker_cancel_long_running_tasks_on_connection_loss=True,
    # Short tasks (a few S3/AMQP/SMTP round trips): keep each pool process busy while others wait on I/O.
    worker_prefetch_multiplier=16,
    task_soft_time_limit=60,
    task_time_limit=90,
    task_queues=(tasks_queue,),
    task_default_queue=TASKS_QUEUE,
    task_default_exchange=TASKS_QUEUE,
    task_default_routing_key=TASKS_QUEUE,
    task_create_missing_queues=False,
    # Explicitly through the billing.tasks exchange: Celery would otherwise publish to a direct queue via
    # the default exchange, which billing's least-privilege broker user may not write to (it could reach
    # every queue by name there).
    task_routes={"billing.*": {"queue": TASKS_QUEUE, "exchange": TASKS_QUEUE, "routing_key": TASKS_QUEUE}},
    worker_send_task_events=False,
    timezone="UTC",
    enable_utc=True,
    beat_schedule={
        "billing-reconciliation": {
            "task": "billing.reconciliation_request_task",
            "schedule": float(settings.reconcile_interval_seconds),
            # A request that waited longer than one interval is superseded by the next one.
            "options": {"expires": float(settings.reconcile_interval_seconds)},
        }
    },
)


@worker_process_init.connect
def pool_process_priority(**_kwargs) -> None:
    """A pool process lowers its own CPU priority by ``BILLING_CHILD_NICE`` (0 keeps it)."""
    if settings.child_nice > 0:
        os.nice(settings.child_nice)


from billing.consumers import RentalFinishedConsumerStep  # noqa: E402  (needs `app` importable first)

app.steps["worker"].add(RentalFinishedConsumerStep)
