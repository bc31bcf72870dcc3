"""Parsing the events billing consumes and building the events it emits (envelopes per contracts/)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from billing.contracts import ContractViolation, validate_event
from billing.errors import InvalidEventError

PRODUCER = "billing-worker"
# Seconds of disagreement tolerated between duration_seconds and ended_at - started_at (rounding of
# sub-second timestamps by the producer).
DURATION_TOLERANCE_SECONDS = 2


def utc_now() -> datetime:
    return datetime.now(UTC)


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def event_validate(event: Any, *, event_type: str) -> None:
    """Raise InvalidEventError naming the violations (at most 5) when ``event`` breaks its v1 contract."""
    try:
        validate_event(event, event_type=event_type, version=1)
    except ContractViolation as exc:
        raise InvalidEventError(str(exc)) from exc


def parse_rfc3339(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without offset: {value}")
    return moment.astimezone(UTC)


def rental_finished_parse(*, body: bytes) -> dict[str, Any]:
    """Decode and check a ``rental.finished`` message; raise InvalidEventError with the reason."""
    try:
        event = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InvalidEventError(f"body is not UTF-8: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise InvalidEventError(f"body is not JSON: {exc}") from exc
    event_validate(event, event_type="rental.finished")

    data = event["data"]
    tariff = data["tariff"]
    # JSON Schema calls 100.0 an integer; money and durations must be real integers here.
    for name, value in (
        ("data/duration_seconds", data["duration_seconds"]),
        ("data/tariff/unlock_fee", tariff["unlock_fee"]),
        ("data/tariff/price_per_minute", tariff["price_per_minute"]),
        ("data/tariff/daily_cap", tariff["daily_cap"]),
    ):
        if value is not None and type(value) is not int:
            raise InvalidEventError(f"{name}: {value!r} is not an integer")
    try:
        started_at = parse_rfc3339(data["started_at"])
        ended_at = parse_rfc3339(data["ended_at"])
    except ValueError as exc:
        raise InvalidEventError(f"bad timestamp: {exc}") from exc
    if ended_at < started_at:
        raise InvalidEventError("data/ended_at is before data/started_at")
    elapsed = (ended_at - started_at).total_seconds()
    if abs(elapsed - data["duration_seconds"]) > DURATION_TOLERANCE_SECONDS:
        raise InvalidEventError(
            f"data/duration_seconds {data['duration_seconds']} disagrees with "
            f"ended_at - started_at ({elapsed:g} s)"
        )
    return event


def invoice_issued_event_id(*, invoice_id: str) -> str:
    """Deterministic per invoice, so a re-published invoice.issued carries the same message_id."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"velo:invoice.issued:{invoice_id}"))


def invoice_issued_event(*, invoice: dict[str, Any]) -> dict[str, Any]:
    """The whole event is a function of the stored invoice: redeliveries produce identical bytes."""
    return {
        "event_id": invoice_issued_event_id(invoice_id=invoice["invoice_id"]),
        "event_type": "invoice.issued",
        "version": 1,
        "occurred_at": invoice["issued_at"],
        "producer": PRODUCER,
        "data": {
            "invoice_id": invoice["invoice_id"],
            "invoice_number": invoice["invoice_number"],
            "rental_id": invoice["rental_id"],
            "user_id": invoice["rider"]["id"],
            "amount": invoice["total"]["amount"],
            "currency": invoice["total"]["currency"],
            "s3_key": invoice["s3_key"],
            "issued_at": invoice["issued_at"],
        },
    }


def reconciliation_requested_event(*, older_than_seconds: int, requested_at: datetime) -> dict[str, Any]:
    stamp = rfc3339(requested_at)
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": "billing.reconciliation_requested",
        "version": 1,
        "occurred_at": stamp,
        "producer": PRODUCER,
        "data": {"older_than_seconds": older_than_seconds, "requested_at": stamp},
    }
