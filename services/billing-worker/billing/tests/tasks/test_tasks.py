"""Celery tasks run eagerly (``apply``) with fake boundaries: retry, resume and give-up behaviour."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from billing import runtime, tasks
from billing.config import load_settings
from billing.events import utc_now
from billing.invoices import invoice_build
from billing.tasks import (
    MAX_RETRIES,
    issue_invoice_task,
    reconciliation_request_task,
    retry_countdown,
    send_receipt_task,
    send_receipts_task,
)


@pytest.fixture(autouse=True)
def fake_runtime(monkeypatch, storage, publisher):
    monkeypatch.setattr(runtime, "storage", lambda: storage)
    monkeypatch.setattr(runtime, "publisher", lambda: publisher)
    monkeypatch.setattr(runtime, "executor", lambda: ThreadPoolExecutor(max_workers=4))
    # the receipt task runs eagerly where the worker would pick it from billing.tasks
    monkeypatch.setattr(tasks, "receipt_enqueue", lambda invoice: send_receipts_task.apply(args=([invoice],)))


def _htmls(storage) -> int:
    return len([key for key in storage.objects if key.endswith(".html")])


def test_issues_an_invoice(basic_event, storage, publisher):
    result = issue_invoice_task.apply(args=(basic_event,))
    assert result.successful()
    assert result.result["created"] is True
    assert len(storage.objects) == 2 and len(publisher.messages) == 1 and _htmls(storage) == 1


def test_s3_outage_is_retried(basic_event, storage, publisher):
    storage.fail_next += ["put_if_absent", "put_if_absent"]
    result = issue_invoice_task.apply(args=(basic_event,))
    assert result.successful()
    assert len(publisher.messages) == 1 and _htmls(storage) == 1


def test_html_outage_is_retried_by_the_receipt_task_alone(basic_event, storage, publisher):
    storage.fail_next += ["put", "put"]
    result = issue_invoice_task.apply(args=(basic_event,))
    assert result.successful()
    assert _htmls(storage) == 1
    # the invoice task is not repeated for an HTML outage: one invoice.issued
    assert len([m for m in publisher.messages if m.exchange == "billing.events"]) == 1


def test_publish_outage_after_creation_resumes_and_stores_the_html(basic_event, storage, publisher):
    publisher.failures = 2
    result = issue_invoice_task.apply(args=(basic_event,))
    assert result.successful()
    assert _htmls(storage) == 1
    assert len({m.message_id for m in publisher.messages if m.exchange == "billing.events"}) == 1


def test_gives_up_to_the_dlq_after_max_retries(basic_event, storage, publisher):
    storage.fail_next += ["put_if_absent"] * (MAX_RETRIES + 5)
    result = issue_invoice_task.apply(args=(basic_event,))
    assert result.successful()
    dead = [m for m in publisher.messages if m.exchange == "billing.dlx"]
    assert len(dead) == 1
    assert dead[0].headers["x-error"].startswith("retries exhausted")
    assert dead[0].json == basic_event
    assert _htmls(storage) == 0


def test_the_old_single_receipt_task_name_runs_the_receipts_task(basic_event, storage):
    assert send_receipt_task.name in tasks.app.tasks  # queued by earlier versions: still registered
    invoice = invoice_build(event=basic_event, issued_at=utc_now())
    storage.fail_next.append("put")
    result = send_receipt_task.apply(args=(invoice,))
    assert result.successful() and result.result == 1
    assert invoice["html_key"] in storage.objects


def test_receipt_task_gives_up_after_max_retries_without_raising(basic_event, storage):
    invoice = invoice_build(event=basic_event, issued_at=utc_now())
    storage.fail_next += ["put"] * (MAX_RETRIES + 5)
    result = send_receipt_task.apply(args=(invoice,))
    assert result.successful() and result.result == 0
    assert _htmls(storage) == 0 and len(storage.fail_next) == 4  # 1 + MAX_RETRIES attempts


def test_unexpected_errors_are_dead_lettered_not_retried(basic_event, storage, publisher, monkeypatch):
    calls = []

    def boom(**kwargs):
        calls.append(1)
        raise KeyError("bug")

    monkeypatch.setattr(storage, "put_if_absent", boom)
    result = issue_invoice_task.apply(args=(basic_event,))
    assert result.successful()
    assert len(calls) == 1
    [dead] = publisher.messages
    assert dead.exchange == "billing.dlx" and "unexpected error" in dead.headers["x-error"]


def test_reconciliation_task_publishes(publisher):
    result = reconciliation_request_task.apply()
    assert result.successful()
    [message] = publisher.messages
    assert message.routing_key == "billing.reconciliation_requested"
    assert message.json["data"]["older_than_seconds"] == load_settings().reconcile_after_seconds


def test_backoff_grows_and_is_capped():
    assert 0.5 <= retry_countdown(retries=0) <= 1
    assert 4 <= retry_countdown(retries=3) <= 8
    assert retry_countdown(retries=20) <= 300


def _invoices(event, count):
    invoices = []
    for index in range(count):
        data = dict(event["data"], rental_id=f"00000000-0000-4000-8000-{index:012d}")
        invoices.append(invoice_build(event=dict(event, data=data), issued_at=utc_now()))
    return invoices


def test_receipts_task_delivers_a_batch_and_retries_only_what_failed(basic_event, storage):
    invoices = _invoices(basic_event, 5)
    storage.fail_next.append("put")  # one HTML write fails once
    result = send_receipts_task.apply(args=(invoices,))
    assert result.successful()
    assert all(i["html_key"] in storage.objects for i in invoices)


def test_receipts_task_gives_up_after_max_retries_without_raising(basic_event, storage):
    storage.fail_next += ["put"] * (MAX_RETRIES + 5)
    result = send_receipts_task.apply(args=(_invoices(basic_event, 1),))
    assert result.successful() and result.result == 0
    assert _htmls(storage) == 0 and len(storage.fail_next) == 4
