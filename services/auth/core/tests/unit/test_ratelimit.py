from datetime import UTC, datetime, timedelta

import pytest

from core.exceptions import RateLimited
from core.models import RateLimitCounter
from core.ratelimit import rate_limit_refund, rate_limit_reserve

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 23, 10, 0, 30, tzinfo=UTC)


def test_counts_per_key_and_window_then_refuses_with_retry_after():
    for _ in range(3):
        rate_limit_reserve(scope="t", key="k", limit=3, window_seconds=60, now=NOW)
    with pytest.raises(RateLimited) as caught:
        rate_limit_reserve(scope="t", key="k", limit=3, window_seconds=60, now=NOW)
    assert caught.value.retry_after == 30  # window 10:00:00 to 10:01:00
    rate_limit_reserve(scope="t", key="other", limit=3, window_seconds=60, now=NOW)
    rate_limit_reserve(scope="t", key="k", limit=3, window_seconds=60, now=NOW + timedelta(seconds=31))


def test_refund_gives_the_attempt_back_and_keys_are_hashed():
    slot = rate_limit_reserve(scope="t", key="ada@example.com", limit=1, window_seconds=60, now=NOW)
    rate_limit_refund(reservation=slot)
    rate_limit_reserve(scope="t", key="ada@example.com", limit=1, window_seconds=60, now=NOW)
    row = RateLimitCounter.objects.get()
    assert row.count == 1
    assert "ada" not in row.key_hash and len(row.key_hash) == 64
