"""Concurrent claims of one throttled key: the row lock of the UPSERT lets exactly the free ones pass."""

import threading

import pytest
from django.db import connection

from core.exceptions import RateLimited
from core.models import FailureThrottle
from core.ratelimit import ThrottlePolicy, throttle_claim

POLICY = ThrottlePolicy(
    free_failures=2, base_delay_seconds=60, max_delay_seconds=600, reset_after_seconds=3600
)


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_cannot_slip_past_a_delay():
    workers = 8
    barrier = threading.Barrier(workers)
    results: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            barrier.wait()
            throttle_claim(scope="test", key="ada@example.com|192.0.2.1", policy=POLICY)
            outcome = "claimed"
        except RateLimited:
            outcome = "refused"
        finally:
            connection.close()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # Two free failures, then the third claim starts a 60 s delay: everything after it is refused.
    assert sorted(results) == ["claimed"] * 3 + ["refused"] * (workers - 3)
    assert FailureThrottle.objects.get().failures == 3
