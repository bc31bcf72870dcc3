import threading
import uuid

import pytest
from core.exceptions import IdempotencyKeyReused, ValidationFailed
from django.db import connection

from idempotency.models import IdempotencyRecord
from idempotency.services import idempotent_call


@pytest.mark.django_db
def test_same_key_same_body_replays_without_running_again():
    calls = []

    def handler():
        calls.append(1)
        return 201, {"n": len(calls)}

    owner = uuid.uuid4()
    args = {"owner_id": owner, "key": "k", "method": "POST", "path": "/api/x", "payload": {"a": 1, "b": 2}}
    assert idempotent_call(**args, handler=handler) == (201, {"n": 1}, False)
    # Key order in the body does not matter.
    assert idempotent_call(**{**args, "payload": {"b": 2, "a": 1}}, handler=handler) == (201, {"n": 1}, True)
    assert len(calls) == 1


@pytest.mark.django_db
def test_same_key_other_body_or_path_is_rejected():
    owner = uuid.uuid4()
    idempotent_call(owner_id=owner, key="k", method="POST", path="/a", payload={}, handler=lambda: (200, {}))
    with pytest.raises(IdempotencyKeyReused):
        idempotent_call(
            owner_id=owner, key="k", method="POST", path="/a", payload={"x": 1}, handler=lambda: (200, {})
        )
    with pytest.raises(IdempotencyKeyReused):
        idempotent_call(
            owner_id=owner, key="k", method="POST", path="/b", payload={}, handler=lambda: (200, {})
        )


@pytest.mark.django_db
def test_keys_are_per_caller():
    for _ in range(2):
        status, _, replayed = idempotent_call(
            owner_id=uuid.uuid4(), key="k", method="POST", path="/a", payload={}, handler=lambda: (201, {})
        )
        assert (status, replayed) == (201, False)


@pytest.mark.django_db
def test_overlong_key_is_400():
    with pytest.raises(ValidationFailed):
        idempotent_call(
            owner_id=uuid.uuid4(), key="x" * 256, method="POST", path="/", payload={}, handler=None
        )


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_run_once_and_all_get_the_first_response():
    owner, runs, lock = uuid.uuid4(), [], threading.Lock()
    barrier = threading.Barrier(8)
    results = []

    def handler():
        with lock:
            runs.append(1)
        import time

        time.sleep(0.2)  # hold the transaction open so the duplicates really overlap
        return 201, {"id": str(uuid.uuid4())}

    def worker():
        try:
            barrier.wait(timeout=10)
            results.append(
                idempotent_call(
                    owner_id=owner, key="dup", method="POST", path="/a", payload={}, handler=handler
                )
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(runs) == 1
    assert len(results) == 8
    assert len({r[1]["id"] for r in results}) == 1
    assert sorted(r[2] for r in results) == [False] + [True] * 7
    assert IdempotencyRecord.objects.filter(owner_id=owner, key="dup").count() == 1
