"""Parsing every contract example; the events billing emits validate against their schemas."""

import json
from datetime import UTC, datetime

import pytest

from billing.contracts import contract_errors
from billing.errors import InvalidEventError
from billing.events import invoice_issued_event_id, reconciliation_requested_event, rental_finished_parse
from billing.tests.conftest import INVALID_RENTAL_FINISHED, VALID_RENTAL_FINISHED, load_example


@pytest.mark.parametrize("path", VALID_RENTAL_FINISHED, ids=lambda p: p.name)
def test_every_valid_example_parses(path):
    event = rental_finished_parse(body=path.read_bytes())
    assert event == load_example(path)


@pytest.mark.parametrize("path", INVALID_RENTAL_FINISHED, ids=lambda p: p.name)
def test_every_invalid_example_is_rejected_with_a_reason(path):
    with pytest.raises(InvalidEventError) as info:
        rental_finished_parse(body=path.read_bytes())
    assert info.value.reason.startswith("schema rental.finished.v1")


def _mutated(basic_event, **data_changes):
    event = json.loads(json.dumps(basic_event))
    event["data"].update(data_changes)
    return json.dumps(event).encode()


@pytest.mark.parametrize(
    ("body", "reason_part"),
    [
        (b"", "not JSON"),
        (b"{not json", "not JSON"),
        (b"\xff\xfe\x00", "not UTF-8"),
        (b"[]", "schema"),
        (b"null", "schema"),
        (b'{"event_type": "rental.finished"}', "schema"),
    ],
)
def test_malformed_bodies_are_invalid(body, reason_part):
    with pytest.raises(InvalidEventError) as info:
        rental_finished_parse(body=body)
    assert reason_part in info.value.reason


def test_integral_float_money_is_invalid(basic_event):
    basic_event["data"]["tariff"]["unlock_fee"] = 100.0
    with pytest.raises(InvalidEventError, match="unlock_fee"):
        rental_finished_parse(body=json.dumps(basic_event).encode())


def test_bad_uuid_email_and_timestamp_formats_are_invalid(basic_event):
    for field, value in (("rental_id", "not-a-uuid"), ("user_email", "nobody"), ("ended_at", "yesterday")):
        with pytest.raises(InvalidEventError, match=field):
            rental_finished_parse(body=_mutated(basic_event, **{field: value}))


def test_end_before_start_is_invalid(basic_event):
    body = _mutated(basic_event, started_at="2026-11-23T10:00:00Z", ended_at="2026-11-23T09:00:00Z")
    with pytest.raises(InvalidEventError, match="before"):
        rental_finished_parse(body=body)


def test_duration_must_match_the_timestamps(basic_event):
    with pytest.raises(InvalidEventError, match="disagrees"):
        rental_finished_parse(body=_mutated(basic_event, duration_seconds=60))
    # a second of rounding by the producer is tolerated
    assert rental_finished_parse(body=_mutated(basic_event, duration_seconds=1391))


def test_other_event_types_and_versions_are_invalid(basic_event):
    for change in ({"event_type": "rental.started"}, {"version": 2}, {"producer": "auth"}):
        with pytest.raises(InvalidEventError):
            rental_finished_parse(body=json.dumps(basic_event | change).encode())


def test_reconciliation_event_matches_schema():
    event = reconciliation_requested_event(
        older_than_seconds=180, requested_at=datetime(2026, 11, 23, tzinfo=UTC)
    )
    assert contract_errors(event, event_type="billing.reconciliation_requested") == []
    assert event["data"] == {"older_than_seconds": 180, "requested_at": "2026-11-23T00:00:00Z"}


def test_invoice_issued_event_id_is_deterministic():
    assert invoice_issued_event_id(invoice_id="a") == invoice_issued_event_id(invoice_id="a")
    assert invoice_issued_event_id(invoice_id="a") != invoice_issued_event_id(invoice_id="b")


def test_producer_users_and_amqp_user():
    from billing.config import amqp_user, producer_users_parse

    assert producer_users_parse("") == {"auth": "auth", "rentals": "rentals", "billing": "billing"}
    assert producer_users_parse(" rentals = velo ,") == {
        "auth": "auth",
        "rentals": "velo",
        "billing": "billing",
    }
    assert amqp_user("amqp://billing:secret@rabbitmq:5672/%2F") == "billing"
    assert amqp_user("amqp://us%40er:pw@host/") == "us@er"
    assert amqp_user("amqp://localhost/") == "guest"
