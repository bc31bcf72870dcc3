"""Sorting a batch of deliveries: issue the valid ones, dead-letter the invalid, retry S3 failures."""

import json

import pytest

from billing import services
from billing.consumers import batch_settle
from billing.services import invoices_issue_batch
from billing.tests.conftest import INVALID_RENTAL_FINISHED, VALID_RENTAL_FINISHED, distinct_examples
from billing.tests.fakes import FakeMessage, FakePublisher, FakeStorage
from billing.topology import BILLING_EVENTS_EXCHANGE


def run(messages, storage, publisher):
    return batch_settle(
        messages=messages,
        entries_run=lambda entries: invoices_issue_batch(
            entries=entries, storage=storage, publisher=publisher
        ),
    )


def issued(publisher):
    return [m.json for m in publisher.messages if m.exchange == BILLING_EVENTS_EXCHANGE]


@pytest.mark.parametrize("path", INVALID_RENTAL_FINISHED, ids=lambda p: p.name)
def test_an_invalid_event_is_dead_lettered_and_the_rest_of_the_batch_is_issued(path):
    storage, publisher = FakeStorage(), FakePublisher()
    good = FakeMessage(body=VALID_RENTAL_FINISHED[0].read_bytes(), delivery_tag=1)
    bad = FakeMessage(body=path.read_bytes(), properties={"message_id": "m-2"}, delivery_tag=2)
    settlement = run([good, bad], storage, publisher)
    [(dead, reason)] = settlement.dead
    assert dead is bad and "schema rental.finished.v1" in reason
    assert len(issued(publisher)) == 1 and len(settlement.receipts) == 1
    assert settlement.retry == []


def test_garbage_is_dead_lettered_not_raised():
    settlement = run(
        [FakeMessage(body=b"\x00garbage", content_type="text/plain")], FakeStorage(), FakePublisher()
    )
    [(_, reason)] = settlement.dead
    assert reason.startswith("body is not JSON")
    assert settlement.receipts == [] and settlement.retry == []


def test_every_valid_example_is_issued_once_with_one_receipt_each():
    storage, publisher = FakeStorage(), FakePublisher()
    messages = [
        FakeMessage(body=json.dumps(e).encode(), delivery_tag=i + 1)
        for i, e in enumerate(distinct_examples())
    ]
    settlement = run(messages, storage, publisher)
    assert settlement.dead == [] and settlement.retry == []
    assert len(settlement.receipts) == len(messages) == len(issued(publisher))
    assert len({e["data"]["invoice_id"] for e in issued(publisher)}) == len(messages)


def test_a_duplicate_in_the_same_batch_publishes_the_same_event_and_hands_over_one_receipt():
    storage, publisher = FakeStorage(), FakePublisher()
    body = VALID_RENTAL_FINISHED[0].read_bytes()
    settlement = run(
        [FakeMessage(body=body, delivery_tag=1), FakeMessage(body=body, delivery_tag=2)], storage, publisher
    )
    first, second = issued(publisher)
    assert first == second
    assert len(settlement.receipts) == 1


def test_an_s3_failure_is_handed_to_the_retry_task():
    storage, publisher = FakeStorage(), FakePublisher()
    storage.fail_next.append("put_if_absent")
    event_body = VALID_RENTAL_FINISHED[0].read_bytes()
    settlement = run([FakeMessage(body=event_body)], storage, publisher)
    [event] = settlement.retry
    assert event["event_id"]
    assert publisher.messages == [] and settlement.receipts == [] and settlement.dead == []


def test_a_redelivery_of_a_created_invoice_without_html_hands_the_receipt_over_again():
    storage, publisher = FakeStorage(), FakePublisher()
    body = VALID_RENTAL_FINISHED[0].read_bytes()
    run([FakeMessage(body=body)], storage, publisher)  # created; its receipt task never ran (no HTML)
    again = run([FakeMessage(body=body, delivery_info={"redelivered": True})], storage, publisher)
    assert len(again.receipts) == 1
    plain = run([FakeMessage(body=body)], storage, publisher)
    assert plain.receipts == []  # a plain duplicate restores the HTML instead
    assert any(key.endswith(".html") for key in storage.objects)
    assert len({json["event_id"] for json in issued(publisher)}) == 1


def test_an_event_that_cannot_be_invoiced_is_dead_lettered_alone(monkeypatch):
    storage, publisher = FakeStorage(), FakePublisher()
    good, odd = (
        FakeMessage(body=json.dumps(e).encode(), delivery_tag=i + 1)
        for i, e in enumerate(distinct_examples()[:2])
    )
    odd_rental = json.loads(odd.body)["data"]["rental_id"]
    real_build = services.invoice_build

    def build(*, event, issued_at):
        if event["data"]["rental_id"] == odd_rental:
            raise ZeroDivisionError("a bug")
        return real_build(event=event, issued_at=issued_at)

    monkeypatch.setattr(services, "invoice_build", build)
    settlement = run([good, odd], storage, publisher)
    [(dead, reason)] = settlement.dead
    assert dead is odd and reason.startswith("unexpected error: ZeroDivisionError")
    assert [e["data"]["rental_id"] for e in issued(publisher)] == [json.loads(good.body)["data"]["rental_id"]]
    assert len(settlement.receipts) == 1 and settlement.retry == []


@pytest.mark.parametrize("user_id", [None, "auth", "billing", "velo"])
def test_an_event_not_published_by_rentals_broker_user_is_dead_lettered(user_id, caplog):
    storage, publisher = FakeStorage(), FakePublisher()
    body = VALID_RENTAL_FINISHED[0].read_bytes()
    forged = FakeMessage(body=body, properties={"message_id": "m-1", "user_id": user_id}, delivery_tag=1)
    genuine = FakeMessage(body=body, properties={"message_id": "m-2", "user_id": "rentals"}, delivery_tag=2)
    with caplog.at_level("WARNING", logger="billing.consumers"):
        settlement = batch_settle(
            messages=[forged, genuine],
            entries_run=lambda entries: invoices_issue_batch(
                entries=entries, storage=storage, publisher=publisher
            ),
            producer_user="rentals",
        )
    [(dead, reason)] = settlement.dead
    assert dead is forged and f"published by broker user {user_id!r}, not rentals' 'rentals'" in reason
    assert "dead-lettering invalid rental.finished message" in caplog.text
    assert len(issued(publisher)) == 1 and len(settlement.receipts) == 1
