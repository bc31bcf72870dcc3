"""Celery tasks: thin wrappers that call a service with the process's boundary clients."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import Any

from kombu.exceptions import KombuError

from billing import runtime, services
from billing.celery import app
from billing.config import load_settings
from billing.errors import TransientError
from billing.services import InvoiceIncomplete

logger = logging.getLogger(__name__)

MAX_RETRIES = 10
MAX_BACKOFF_SECONDS = 300


def retry_countdown(*, retries: int) -> float:
    """Exponential backoff with full jitter: 1, 2, 4 ... capped at 300 s (about 13 min over 10 retries)."""
    ceiling = min(MAX_BACKOFF_SECONDS, 2**retries)
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def receipt_enqueue(invoice: dict[str, Any]) -> None:
    """Hand the invoice HTML over to ``send_receipts_task`` as a batch of one (confirmed publish)."""
    try:
        send_receipts_task.apply_async(
            args=([invoice],), retry=False, argsrepr=f"([invoice {invoice['invoice_id']}],)"
        )
    except (KombuError, OSError) as exc:
        raise TransientError(f"receipt hand-over for invoice {invoice['invoice_id']}: {exc!r}") from exc


@app.task(bind=True, name="billing.issue_invoice_task", max_retries=MAX_RETRIES, acks_late=True)
def issue_invoice_task(
    self, event: dict[str, Any], resume_created: bool = False, redelivered: bool = False
) -> dict[str, Any] | None:
    """One event's invoice with Celery's retries (services.invoice_issue: a batch of one): the batch
    consumer hands an event over to this task when S3 failed for it (``redelivered``: its delivery was a
    broker redelivery)."""
    try:
        outcome = services.invoice_issue(
            event=event,
            storage=runtime.storage(),
            publisher=runtime.publisher(),
            receipt_enqueue=receipt_enqueue,
            resume_created=resume_created,
            # acks late: a redelivered task message means a worker died while running it
            redelivered=redelivered or bool((self.request.delivery_info or {}).get("redelivered")),
        )
    except TransientError as exc:
        resume = resume_created or isinstance(exc, InvoiceIncomplete)
        if self.request.retries >= self.max_retries:
            services.rental_finished_dead_letter(
                publisher=runtime.publisher(), event=event, reason=f"retries exhausted: {exc}"
            )
            return None
        countdown = retry_countdown(retries=self.request.retries)
        logger.warning("rental.finished %s: %s; retry in %.1f s", event.get("event_id"), exc, countdown)
        raise self.retry(
            exc=exc,
            countdown=countdown,
            args=(event,),
            kwargs={"resume_created": resume, "redelivered": redelivered},
        )
    except Exception as exc:
        logger.exception("rental.finished %s failed unexpectedly", event.get("event_id"))
        services.rental_finished_dead_letter(
            publisher=runtime.publisher(), event=event, reason=f"unexpected error: {exc!r}"
        )
        return None
    return {"invoice_id": outcome.invoice["invoice_id"], "created": outcome.created}


def _receipts_store(task: Any, invoices: list[dict[str, Any]], *, retry_args: Callable[[list], tuple]) -> int:
    """The one receipts implementation: the HTMLs of the invoices, in parallel; a retry (of ``task``, with
    ``retry_args(failed)``) carries only the ones that failed transiently. Returns how many were stored
    in this run."""
    retry, errors = services.receipts_deliver(
        invoices=invoices,
        storage=runtime.storage(),
        parallel_map=runtime.executor().map,
    )
    if not retry:
        return len(invoices)
    if task.request.retries >= task.max_retries:
        logger.error(
            "receipt for invoice %s given up: %s",
            ", ".join(i.get("invoice_id", "?") for i in retry),
            errors[0],
        )
        return len(invoices) - len(retry)
    countdown = retry_countdown(retries=task.request.retries)
    more = f" and {len(retry) - 1} more" if len(retry) > 1 else ""
    logger.warning(
        "receipt for invoice %s%s: %s; retry in %.1f s",
        retry[0].get("invoice_id"),
        more,
        errors[0],
        countdown,
    )
    raise task.retry(exc=errors[0], countdown=countdown, args=retry_args(retry))


@app.task(bind=True, name="billing.send_receipts_task", max_retries=MAX_RETRIES, acks_late=True)
def send_receipts_task(self, invoices: list[dict[str, Any]]) -> int:
    """The receipts task: the invoice HTMLs, off the critical path of ``invoice.issued`` (a batch's, or
    one invoice's from issue_invoice_task as a batch of one). Named for the receipts it also mailed
    before the notifier took them over; the name is kept: a task name is a contract."""
    return _receipts_store(self, invoices, retry_args=lambda retry: (retry,))


@app.task(bind=True, name="billing.send_receipt_task", max_retries=MAX_RETRIES, acks_late=True)
def send_receipt_task(self, invoice: dict[str, Any]) -> int:
    """Alias of send_receipts_task for one invoice, kept registered so that ``billing.send_receipt_task``
    messages queued by earlier versions still run; nothing sends this name any more."""
    return _receipts_store(self, [invoice], retry_args=lambda retry: (retry[0],))


@app.task(name="billing.reconciliation_request_task", acks_late=True)
def reconciliation_request_task() -> str:
    event = services.reconciliation_request(
        publisher=runtime.publisher(), older_than_seconds=load_settings().reconcile_after_seconds
    )
    return event["event_id"]
