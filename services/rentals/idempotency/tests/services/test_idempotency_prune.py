import datetime as dt
import uuid

import pytest
from django.core.management import call_command
from django.utils import timezone

from idempotency.models import IdempotencyRecord
from idempotency.services import idempotency_records_prune, idempotent_call

pytestmark = pytest.mark.django_db


def _call(owner: uuid.UUID, key: str, calls: list[int]):
    def handler():
        calls.append(1)
        return 201, {"n": len(calls)}

    return idempotent_call(owner_id=owner, key=key, method="POST", path="/api/x", payload={}, handler=handler)


def _age(owner: uuid.UUID, key: str, hours: float) -> None:
    IdempotencyRecord.objects.filter(owner_id=owner, key=key).update(
        created_at=timezone.now() - dt.timedelta(hours=hours)
    )


def test_prune_deletes_records_past_the_window_oldest_first_in_batches():
    owner, calls = uuid.uuid4(), []
    for key, hours in (("a", 50), ("b", 40), ("c", 30), ("fresh", 1)):
        _call(owner, key, calls)
        _age(owner, key, hours)
    cutoff = timezone.now() - dt.timedelta(hours=24)

    assert idempotency_records_prune(older_than=cutoff, batch_size=2) == 2
    assert set(IdempotencyRecord.objects.values_list("key", flat=True)) == {"c", "fresh"}
    assert idempotency_records_prune(older_than=cutoff, batch_size=2) == 1
    assert idempotency_records_prune(older_than=cutoff, batch_size=2) == 0
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["fresh"]


def test_within_the_window_a_retry_replays_after_it_runs_again():
    owner, calls = uuid.uuid4(), []
    assert _call(owner, "k", calls) == (201, {"n": 1}, False)
    _age(owner, "k", 23)
    idempotency_records_prune(older_than=timezone.now() - dt.timedelta(hours=24), batch_size=100)
    assert _call(owner, "k", calls) == (201, {"n": 1}, True)

    _age(owner, "k", 25)
    idempotency_records_prune(older_than=timezone.now() - dt.timedelta(hours=24), batch_size=100)
    assert _call(owner, "k", calls) == (201, {"n": 2}, False)


def test_prune_idempotency_command(capsys):
    owner, calls = uuid.uuid4(), []
    for key in ("a", "b", "c"):
        _call(owner, key, calls)
        _age(owner, key, 48)
    _call(owner, "fresh", calls)

    call_command("prune_idempotency", "--batch-size", "2")
    assert "deleted 3 idempotency record(s) older than 24 h" in capsys.readouterr().out
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["fresh"]
