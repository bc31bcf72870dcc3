"""core/contracts.py (the same file in every service, billing-worker's billing/contracts.py included)."""

import uuid

import pytest

from core.contracts import ContractViolation, contract_errors, contracts_dir, validate_event

VALID = {
    "event_id": str(uuid.uuid4()),
    "event_type": "user.reactivated",
    "version": 1,
    "occurred_at": "2026-11-23T10:00:00Z",
    "producer": "auth",
    "data": {"user_id": str(uuid.uuid4()), "reactivated_at": "2026-11-23T10:00:00Z"},
}


def test_the_contracts_are_the_repositorys_unless_configured(monkeypatch, tmp_path):
    monkeypatch.delenv("CONTRACTS_DIR", raising=False)
    assert (contracts_dir() / "events" / "user.reactivated.v1.schema.json").is_file()
    monkeypatch.setenv("CONTRACTS_DIR", str(tmp_path))
    assert contracts_dir() == tmp_path


def test_a_valid_event_passes_and_violations_are_named_by_path():
    validate_event(VALID)
    broken = VALID | {"data": {"user_id": "not-a-uuid"}}
    errors = contract_errors(broken)
    assert any(error.startswith("data:") for error in errors)  # reactivated_at missing
    assert any(error.startswith("data/user_id:") for error in errors)  # not a uuid
    with pytest.raises(ContractViolation, match=r"^schema user\.reactivated\.v1: "):
        validate_event(broken)


def test_the_caller_may_name_the_contract_it_expects():
    with pytest.raises(ContractViolation, match=r"^schema user\.deactivated\.v1: "):
        validate_event(VALID, event_type="user.deactivated", version=1)


@pytest.mark.parametrize(
    "envelope", [VALID | {"event_type": "user.unknown"}, VALID | {"version": "1"}, ["not", "an", "object"]]
)
def test_an_unknown_or_unnamed_contract_is_a_violation(envelope):
    with pytest.raises(ContractViolation):
        validate_event(envelope)
