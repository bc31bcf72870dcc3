"""invoice_issue (one event as a batch of one of invoices_issue_batch) with fake S3/publisher, fed with
every contract example: exactly once under redelivery and crash. ``handed`` lists the receipts (invoice
HTML writes) handed over; the notifier mails receipts on invoice.issued."""

import json
import uuid
from datetime import UTC, datetime

import pytest

from billing.contracts import contract_errors
from billing.errors import TransientError
from billing.events import rental_finished_parse
from billing.invoices import invoice_html
from billing.services import (
    InvoiceIncomplete,
    invoice_issue,
    receipts_deliver,
    reconciliation_request,
    rental_finished_dead_letter,
)
from billing.tests.conftest import VALID_RENTAL_FINISHED

NOW = datetime(2026, 11, 23, 9, 43, 12, tzinfo=UTC)


def issue(event, storage, publisher, handed, now=NOW, deliver=True, **kwargs):
    """invoice_issue, then (``deliver``) the receipt tasks it handed over, as the worker runs them later."""
    queued: list[dict] = []
    outcome = invoice_issue(
        event=event,
        storage=storage,
        publisher=publisher,
        receipt_enqueue=queued.append,
        now=lambda: now,
        **kwargs,
    )
    assert len(queued) == int(outcome.receipt_enqueued)
    if deliver:
        for invoice in queued:
            assert receipts_deliver(invoices=[invoice], storage=storage) == ([], [])
            handed.append(invoice)
    return outcome


class WorkerDied(BaseException):
    """Stands for a worker killed between two steps (not an exception the task could handle)."""


@pytest.mark.parametrize("path", VALID_RENTAL_FINISHED, ids=lambda p: p.name)
def test_every_example_becomes_one_invoice_event_and_receipt(path, storage, publisher, handed):
    event = rental_finished_parse(body=path.read_bytes())
    rental_id = event["data"]["rental_id"]

    outcome = issue(event, storage, publisher, handed)

    key = f"invoices/2026/11/{rental_id}.json"
    assert outcome.created
    assert set(storage.objects) == {key, key.replace(".json", ".html")}
    body, content_type = storage.objects[key]
    assert content_type == "application/json"
    invoice = json.loads(body)
    assert invoice["invoice_id"] == str(uuid.uuid5(uuid.NAMESPACE_URL, "velo:invoice:" + rental_id))
    assert invoice["rider"] == {
        "id": event["data"]["user_id"],
        "name": "Ada Lovelace",
        "email": "ada@example.com",
    }
    assert invoice["bike"]["number"] == "VELO-0007"
    assert invoice["issued_at"] == "2026-11-23T09:43:12Z"
    assert invoice["total"]["amount"] == sum(item["amount"] for item in invoice["line_items"])

    [message] = publisher.messages
    assert message.exchange == "billing.events"
    assert message.routing_key == "invoice.issued"
    issued = message.json
    assert contract_errors(issued, event_type="invoice.issued") == []
    assert message.message_id == issued["event_id"]
    assert issued["data"]["invoice_id"] == invoice["invoice_id"]
    assert issued["data"]["amount"] == invoice["total"]["amount"]
    assert issued["data"]["s3_key"] == key

    [handed_over] = handed
    assert handed_over["invoice_id"] == invoice["invoice_id"] and invoice["html_key"] in storage.objects


def test_basic_example_amount_matches_the_invoice_issued_example(basic_event, storage, publisher, handed):
    outcome = issue(basic_event, storage, publisher, handed)
    assert outcome.invoice["total"] == {"amount": 700, "currency": "EUR"}
    assert outcome.invoice["invoice_number"] == "INV-202611-0B9F5A523C1E4F7A8A9E2B1C0D9E8F7A"
    assert [i["amount"] for i in outcome.invoice["line_items"]] == [100, 600]


def test_redelivery_republishes_the_same_event_and_writes_nothing(basic_event, storage, publisher, handed):
    first = issue(basic_event, storage, publisher, handed)
    objects_before = dict(storage.objects)

    second = issue(basic_event, storage, publisher, handed, now=datetime(2026, 12, 1, tzinfo=UTC))

    assert not second.created
    assert storage.objects == objects_before
    assert second.invoice == first.invoice
    assert [m.body for m in publisher.messages] == [publisher.messages[0].body] * 2
    assert len({m.message_id for m in publisher.messages}) == 1
    assert len(handed) == 1


def test_redelivery_with_changed_tariff_keeps_the_stored_amount(basic_event, storage, publisher, handed):
    issue(basic_event, storage, publisher, handed)
    basic_event["data"]["tariff"]["unlock_fee"] = 999
    second = issue(basic_event, storage, publisher, handed)
    assert second.invoice["total"]["amount"] == 700
    assert publisher.messages[-1].json["data"]["amount"] == 700


def test_publish_failure_after_creation_is_resumable(basic_event, storage, publisher, handed):
    publisher.failures = 1
    with pytest.raises(InvoiceIncomplete):
        issue(basic_event, storage, publisher, handed)
    assert handed == []

    retry = issue(basic_event, storage, publisher, handed, resume_created=True)

    assert not retry.created
    assert retry.receipt_enqueued
    assert len(publisher.messages) == 1
    assert len(handed) == 1


def test_receipt_hand_over_failure_after_creation_is_resumable(basic_event, storage, publisher, handed):
    def broker_down(invoice):
        raise TransientError("broker down")

    with pytest.raises(InvoiceIncomplete):
        invoice_issue(event=basic_event, storage=storage, publisher=publisher, receipt_enqueue=broker_down)
    issue(basic_event, storage, publisher, handed, resume_created=True)
    issue(basic_event, storage, publisher, handed)  # a later plain redelivery
    assert len(handed) == 1


def test_invoice_issued_goes_out_before_html_and_mail(basic_event, storage, publisher, handed):
    outcome = issue(basic_event, storage, publisher, handed, deliver=False)
    assert len(publisher.messages) == 1
    assert set(storage.objects) == {outcome.invoice["s3_key"]}
    assert handed == []


def test_html_outage_is_transient_and_the_retry_stores_it(basic_event, storage, publisher):
    queued: list[dict] = []
    invoice_issue(event=basic_event, storage=storage, publisher=publisher, receipt_enqueue=queued.append)
    [invoice] = queued
    storage.fail_next.append("put")
    retry, [error] = receipts_deliver(invoices=[invoice], storage=storage)
    assert retry == [invoice] and isinstance(error, TransientError)
    assert invoice["html_key"] not in storage.objects
    assert receipts_deliver(invoices=retry, storage=storage) == ([], [])
    assert invoice["html_key"] in storage.objects


def test_duplicate_while_the_receipt_is_pending_hands_over_nothing(basic_event, storage, publisher, handed):
    first = issue(basic_event, storage, publisher, handed, deliver=False)
    second = issue(basic_event, storage, publisher, handed)
    assert first.receipt_enqueued and not second.receipt_enqueued
    assert handed == []


def test_worker_death_before_the_receipt_hand_over_is_healed_by_the_redelivery(
    basic_event, storage, publisher, handed
):
    def die(invoice):
        raise WorkerDied

    with pytest.raises(WorkerDied):
        invoice_issue(event=basic_event, storage=storage, publisher=publisher, receipt_enqueue=die)
    assert handed == []

    healed = issue(basic_event, storage, publisher, handed, redelivered=True)

    assert healed.receipt_enqueued and not healed.created
    assert len(handed) == 1
    issue(basic_event, storage, publisher, handed, redelivered=True)  # once the HTML exists: done
    assert len(handed) == 1


def test_transient_failure_before_creation_is_plain_transient(basic_event, storage, publisher, handed):
    storage.fail_next.append("put_if_absent")
    with pytest.raises(TransientError) as info:
        issue(basic_event, storage, publisher, handed)
    assert not isinstance(info.value, InvoiceIncomplete)
    assert storage.objects == {}


def test_missing_html_is_restored_on_redelivery(basic_event, storage, publisher, handed):
    outcome = issue(basic_event, storage, publisher, handed)
    del storage.objects[outcome.invoice["html_key"]]
    issue(basic_event, storage, publisher, handed)
    assert outcome.invoice["html_key"] in storage.objects


def test_html_is_human_readable_and_escaped(basic_event, storage, publisher, handed):
    basic_event["data"]["user_name"] = "<script>x</script>"
    invoice = issue(basic_event, storage, publisher, handed).invoice
    page = invoice_html(invoice)
    assert "<script>x</script>" not in page and "&lt;script&gt;" in page
    assert "7.00 EUR" in page and "INV-202611-0B9F5A523C1E4F7A8A9E2B1C0D9E8F7A" in page


def test_multi_day_capped_invoice_lines(basic_event, storage, publisher, handed):
    basic_event["data"].update(ended_at="2026-11-25T09:20:01Z", duration_seconds=2 * 86400 + 1)
    invoice = issue(basic_event, storage, publisher, handed).invoice
    riding = [i for i in invoice["line_items"] if i["kind"] == "riding_time"]
    assert [(i["quantity"], i["amount"], i["capped"]) for i in riding] == [
        (1440, 2000, True),
        (1440, 2000, True),
        (1, 25, False),
    ]
    assert invoice["total"]["amount"] == 100 + 4025
    assert "day 1" in riding[0]["description"]


def test_invoice_key_uses_the_month_of_ended_at(basic_event, storage, publisher, handed):
    basic_event["data"].update(
        started_at="2026-11-30T23:50:00Z", ended_at="2026-12-01T00:10:00Z", duration_seconds=1200
    )
    invoice = issue(basic_event, storage, publisher, handed).invoice
    assert invoice["s3_key"].startswith("invoices/2026/12/")
    assert invoice["invoice_number"].startswith("INV-202612-")


def test_reconciliation_request_publishes_a_valid_event(publisher):
    event = reconciliation_request(publisher=publisher, older_than_seconds=180, now=lambda: NOW)
    [message] = publisher.messages
    assert message.exchange == "billing.events"
    assert message.routing_key == "billing.reconciliation_requested"
    assert message.message_id == event["event_id"]
    assert contract_errors(message.json, event_type="billing.reconciliation_requested") == []
    assert message.json["data"]["older_than_seconds"] == 180


def test_dead_letter_keeps_the_event_and_states_the_reason(basic_event, publisher):
    rental_finished_dead_letter(publisher=publisher, event=basic_event, reason="retries exhausted: S3 down")
    [message] = publisher.messages
    assert message.exchange == "billing.dlx"
    assert message.json == basic_event
    assert message.headers["x-error"] == "retries exhausted: S3 down"
    assert message.headers["x-original-message-id"] == basic_event["event_id"]


def test_unlock_fee_waived_in_the_event_is_not_charged(basic_event, storage, publisher, handed):
    full = issue(dict(basic_event, event_id=str(uuid.uuid4())), storage, publisher, handed).invoice["total"][
        "amount"
    ]
    waived_event = json.loads(json.dumps(basic_event))
    waived_event["data"]["rental_id"] = str(uuid.uuid4())
    waived_event["data"]["unlock_fee_waived"] = True
    result = issue(waived_event, storage, publisher, handed)
    unlock = result.invoice["line_items"][0]
    assert (unlock["kind"], unlock["amount"], result.invoice["unlock_fee_waived"]) == ("unlock_fee", 0, True)
    assert result.invoice["total"]["amount"] == full - waived_event["data"]["tariff"]["unlock_fee"]
    assert (
        publisher.messages[-1].json["data"]["amount"] == full - waived_event["data"]["tariff"]["unlock_fee"]
    )
