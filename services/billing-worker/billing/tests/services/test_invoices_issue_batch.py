"""invoices_issue_batch (the one issuing path) and receipts_deliver with fake S3/publisher: the per-entry
outcomes."""

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from billing.errors import TransientError
from billing.events import rental_finished_parse
from billing.services import BatchEntry, invoice_issue, invoices_issue_batch, receipts_deliver
from billing.tests.conftest import distinct_examples
from billing.tests.fakes import FakePublisher, FakeStorage
from billing.topology import BILLING_EVENTS_EXCHANGE

NOW = datetime(2026, 11, 23, 9, 43, 12, tzinfo=UTC)


def events():
    return [rental_finished_parse(body=json.dumps(e).encode()) for e in distinct_examples()]


def batch(storage, publisher, entries):
    with ThreadPoolExecutor(max_workers=4) as pool:
        return invoices_issue_batch(
            entries=entries, storage=storage, publisher=publisher, parallel_map=pool.map, now=lambda: NOW
        )


def test_a_batch_issues_what_invoice_issue_issues_one_by_one(storage, publisher):
    single_storage, single_publisher = FakeStorage(), FakePublisher()
    for event in events():
        invoice_issue(
            event=event, storage=single_storage, publisher=single_publisher, receipt_enqueue=lambda i: None,
            now=lambda: NOW,
        )  # fmt: skip
    done = batch(storage, publisher, [BatchEntry(event=e) for e in events()])
    assert all(e.created and e.hand_over and e.error is None for e in done)
    assert [m.json for m in publisher.messages] == [m.json for m in single_publisher.messages]
    assert {k: v[0] for k, v in storage.objects.items()} == {
        k: v[0] for k, v in single_storage.objects.items()
    }
    assert all(m.exchange == BILLING_EVENTS_EXCHANGE for m in publisher.messages)


def test_a_second_batch_republishes_from_the_stored_invoices_and_hands_nothing_over(storage, publisher):
    batch(storage, publisher, [BatchEntry(event=e) for e in events()])
    first = [m.json for m in publisher.messages]
    publisher.messages.clear()
    later = datetime(2027, 1, 1, tzinfo=UTC)
    with ThreadPoolExecutor(max_workers=2) as pool:
        done = invoices_issue_batch(
            entries=[BatchEntry(event=e) for e in events()],
            storage=storage,
            publisher=publisher,
            parallel_map=pool.map,
            now=lambda: later,
        )
    assert [m.json for m in publisher.messages] == first  # same ids, amounts and issued_at
    assert not any(e.created or e.hand_over for e in done)


def test_one_entry_failing_in_s3_does_not_stop_the_others(storage, publisher):
    storage.fail_next.append("put_if_absent")
    done = batch(storage, publisher, [BatchEntry(event=e) for e in events()])
    failed = [e for e in done if e.error is not None]
    assert len(failed) == 1 and isinstance(failed[0].error, TransientError)
    assert len(publisher.messages) == len(done) - 1
    assert failed[0].issued is None


def test_a_resumed_entry_hands_the_receipt_over_though_the_invoice_exists(storage, publisher):
    [event, *_] = events()
    [first] = batch(storage, publisher, [BatchEntry(event=event)])
    [resumed] = batch(storage, publisher, [BatchEntry(event=event, resume_created=True)])
    [plain] = batch(storage, publisher, [BatchEntry(event=event)])
    assert first.created and first.hand_over
    assert not resumed.created and resumed.hand_over and resumed.invoice == first.invoice
    assert not plain.hand_over  # a plain duplicate restores the HTML instead
    assert first.invoice["html_key"] in storage.objects
    assert len({m.message_id for m in publisher.messages}) == 1


def test_receipts_deliver_returns_only_the_htmls_to_retry(storage, publisher):
    invoices = [e.invoice for e in batch(storage, publisher, [BatchEntry(event=e) for e in events()])]
    storage.fail_next.append("put")
    retry, errors = receipts_deliver(invoices=invoices, storage=storage)
    assert len(retry) == 1 and len(errors) == 1
    assert all(i["html_key"] in storage.objects for i in invoices if i not in retry)
