"""Billing's writes: issue an invoice for a finished rental, store its HTML, request reconciliation,
dead-letter. Receipts are the notifier's (it mails them on invoice.issued)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from billing.errors import TransientError
from billing.events import (
    event_validate,
    invoice_issued_event,
    reconciliation_requested_event,
    rfc3339,
    utc_now,
)
from billing.integrations.amqp import event_json_bytes
from billing.invoices import invoice_build, invoice_html, invoice_json_bytes
from billing.topology import (
    BILLING_EVENTS_EXCHANGE,
    DEAD_LETTER_EXCHANGE,
    RENTAL_FINISHED_ROUTING_KEY,
    RENTALS_EVENTS_EXCHANGE,
)

logger = logging.getLogger(__name__)


class Storage(Protocol):
    def put_if_absent(self, *, key: str, body: bytes, content_type: str) -> bool: ...
    def put(self, *, key: str, body: bytes, content_type: str) -> None: ...
    def get_json(self, *, key: str) -> dict | None: ...
    def exists(self, *, key: str) -> bool: ...


class Publisher(Protocol):
    def publish(
        self,
        *,
        exchange: str,
        routing_key: str,
        body: bytes,
        message_id: str,
        content_type: str = ...,
        message_type: str | None = ...,
        headers: dict | None = ...,
    ) -> None: ...
    def publish_event(self, *, exchange: str, event: dict, headers: dict | None = ...) -> None: ...


class InvoiceIncomplete(TransientError):
    """A transient failure after this delivery created the invoice: the retry must finish its work
    (invoice.issued, hand-over of the receipt) even though the invoice JSON now exists."""


@dataclass(frozen=True, slots=True)
class InvoiceOutcome:
    invoice: dict[str, Any]
    created: bool
    receipt_enqueued: bool
    event: dict[str, Any]


HTML_CONTENT_TYPE = "text/html; charset=utf-8"


@dataclass(slots=True)
class BatchEntry:
    """One ``rental.finished`` delivery of a batch and what became of it (filled by invoices_issue_batch).

    ``redelivered``: a broker redelivery (its first delivery may have died before handing the receipt
    over). ``resume_created``: the retry of a delivery that created the invoice and then failed
    (InvoiceIncomplete): it owns the receipt although the invoice JSON exists. ``error``: a TransientError
    (S3 trouble: the caller retries this event on its own) or any other exception (the event can never be
    invoiced: the caller dead-letters it). ``hand_over``: this delivery owns the receipt (it created the
    invoice, resumes the one that did, or it is a broker redelivery of one that died before handing the
    receipt over and no HTML exists yet)."""

    event: dict[str, Any]
    redelivered: bool = False
    resume_created: bool = False
    invoice: dict[str, Any] | None = None
    issued: dict[str, Any] | None = None
    created: bool = False
    hand_over: bool = False
    error: Exception | None = None


def _entry_store(entry: BatchEntry, *, storage: Storage, issued_at: datetime) -> BatchEntry:
    """The S3 part of one entry (runs in a worker thread): the conditional create of the JSON, or for a
    duplicate the stored invoice and, when its HTML is missing, the HTML or the receipt hand-over."""
    try:
        draft = invoice_build(event=entry.event, issued_at=issued_at)
        key = draft["s3_key"]
        if storage.put_if_absent(key=key, body=invoice_json_bytes(draft), content_type="application/json"):
            entry.invoice, entry.created, entry.hand_over = draft, True, True
        else:
            stored = storage.get_json(key=key)
            if stored is None:  # exists per the conditional put but not readable yet
                raise TransientError(f"invoice {key} exists but could not be read")
            if stored["total"] != draft["total"]:
                logger.warning(
                    "rental %s redelivered with a different amount (%s, stored %s); the stored one stands",
                    stored["rental_id"],
                    draft["total"],
                    stored["total"],
                )
            entry.invoice = stored
            if entry.resume_created:
                entry.hand_over = True
            elif not storage.exists(key=stored["html_key"]):
                if entry.redelivered:  # the delivery that created it died before the receipt was handed over
                    logger.warning("invoice %s: handing over the receipt again", stored["invoice_id"])
                    entry.hand_over = True
                else:
                    invoice_html_store(invoice=stored, storage=storage)
        issued = invoice_issued_event(invoice=entry.invoice)
        event_validate(issued, event_type="invoice.issued")
        entry.issued = issued
    except Exception as exc:  # reported per entry: one bad event must not sink the batch
        entry.error = exc
    return entry


def invoices_issue_batch(
    *,
    entries: list[BatchEntry],
    storage: Storage,
    publisher: Publisher,
    parallel_map: Callable[..., Any] = map,
    now: Callable[[], datetime] = utc_now,
) -> list[BatchEntry]:
    """Issue the invoices of a batch of ``rental.finished`` events exactly once (the only issuing path:
    one event is a batch of one, see invoice_issue).

    The S3 key is deterministic and written with a conditional create, so only the first delivery writes
    the invoice; any later delivery reads the stored invoice and re-publishes the identical
    ``invoice.issued`` (same event id, invoice id and amount). The conditional PUTs of the JSON run through
    ``parallel_map`` (a thread pool's ``map`` sharing one S3 client), then ``invoice.issued`` of every
    stored invoice is published on ``publisher`` (a ConfirmingChannel does not wait; the caller confirms).
    The caller then hands the receipts (the HTML) of the ``hand_over`` entries over, and only then acks the
    deliveries. A plain duplicate never hands a receipt over; it only restores a missing HTML. Returns the
    entries, each with its outcome; entries with ``error`` set published nothing (the caller logs them and
    decides: retry a TransientError, dead-letter anything else). A publish failure raises."""
    issued_at = now()
    done = list(
        parallel_map(lambda entry: _entry_store(entry, storage=storage, issued_at=issued_at), entries)
    )
    for entry in done:
        if entry.error is None:
            publisher.publish_event(exchange=BILLING_EVENTS_EXCHANGE, event=entry.issued)
        if entry.created:
            invoice = entry.invoice
            logger.info(
                "invoice %s created for rental %s at %s",
                invoice["invoice_id"],
                invoice["rental_id"],
                invoice["s3_key"],
            )
    return done


def invoice_issue(
    *,
    event: dict[str, Any],
    storage: Storage,
    publisher: Publisher,
    receipt_enqueue: Callable[[dict[str, Any]], None],
    now: Callable[[], datetime] = utc_now,
    resume_created: bool = False,
    redelivered: bool = False,
) -> InvoiceOutcome:
    """One ``rental.finished`` event (billing.issue_invoice_task) as a batch of one through
    invoices_issue_batch, on a publisher that confirms each publish, then the receipt hand-over
    (``receipt_enqueue(invoice)``, a confirmed publish) when the entry owns it.

    A TransientError (the entry's S3 step, the publish or the hand-over) raises; once this delivery owns
    the invoice (it created it, or ``resume_created``) it raises InvoiceIncomplete, so that the retry
    carries ``resume_created=True`` and still hands the receipt over. Any other error of the entry raises
    as it is (the task dead-letters the event)."""
    entry = BatchEntry(event=event, redelivered=redelivered, resume_created=resume_created)
    try:
        invoices_issue_batch(entries=[entry], storage=storage, publisher=publisher, now=now)
        if entry.error is not None:
            raise entry.error
        if entry.hand_over:
            receipt_enqueue(entry.invoice)
    except TransientError as exc:
        if (entry.created or resume_created) and not isinstance(exc, InvoiceIncomplete):
            raise InvoiceIncomplete(str(exc)) from exc
        raise
    return InvoiceOutcome(
        invoice=entry.invoice, created=entry.created, receipt_enqueued=entry.hand_over, event=entry.issued
    )


def invoice_html_store(*, invoice: dict[str, Any], storage: Storage) -> None:
    """The HTML is a pure function of the stored invoice: writing it again is harmless."""
    storage.put(
        key=invoice["html_key"], body=invoice_html(invoice).encode("utf-8"), content_type=HTML_CONTENT_TYPE
    )


def receipts_deliver(
    *,
    invoices: list[dict[str, Any]],
    storage: Storage,
    parallel_map: Callable[..., Any] = map,
) -> tuple[list[dict[str, Any]], list[TransientError]]:
    """Store the HTML of each invoice (what stays in billing of the former receipt hand-over; the notifier
    mails the receipt on invoice.issued), the PUTs through ``parallel_map``. Returns the invoices whose
    HTML still has to be retried (a transient failure) with the errors."""

    def store(invoice: dict[str, Any]) -> TransientError | None:
        try:
            invoice_html_store(invoice=invoice, storage=storage)
        except TransientError as exc:
            return exc
        return None

    retry: list[dict[str, Any]] = []
    errors: list[TransientError] = []
    for invoice, error in zip(invoices, list(parallel_map(store, invoices)), strict=True):
        if error is not None:
            retry.append(invoice)
            errors.append(error)
    return retry, errors


def reconciliation_request(
    *, publisher: Publisher, older_than_seconds: int, now: Callable[[], datetime] = utc_now
) -> dict[str, Any]:
    event = reconciliation_requested_event(older_than_seconds=older_than_seconds, requested_at=now())
    event_validate(event, event_type="billing.reconciliation_requested")
    publisher.publish_event(exchange=BILLING_EVENTS_EXCHANGE, event=event)
    return event


def dead_letter_headers(
    *, reason: str, message_id: str | None, failed_at: datetime | None = None
) -> dict[str, Any]:
    return {
        "x-error": reason[:1000],
        "x-original-exchange": RENTALS_EVENTS_EXCHANGE,
        "x-original-routing-key": RENTAL_FINISHED_ROUTING_KEY,
        "x-original-message-id": message_id or "",
        "x-failed-at": rfc3339(failed_at or utc_now()),
    }


def rental_finished_dead_letter(*, publisher: Publisher, event: dict[str, Any], reason: str) -> None:
    """Park an event billing gave up on (retries exhausted, unexpected error) in the DLQ with the reason."""
    logger.error("dead-lettering rental.finished %s: %s", event.get("event_id"), reason)
    publisher.publish(
        exchange=DEAD_LETTER_EXCHANGE,
        routing_key=RENTAL_FINISHED_ROUTING_KEY,
        body=event_json_bytes(event),
        message_id=str(event.get("event_id") or ""),
        headers=dead_letter_headers(reason=reason, message_id=event.get("event_id")),
    )
