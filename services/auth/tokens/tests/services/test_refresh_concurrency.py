"""Two concurrent refreshes with the same token: the family row lock lets exactly one win."""

import threading

import pytest
from core.exceptions import TokenInvalid
from django.db import connection

from tokens.models import RefreshFamily
from tokens.services import token_pair_issue, token_refresh


@pytest.mark.django_db(transaction=True)
def test_concurrent_refresh_with_one_token_cannot_both_win(make_user):
    user = make_user()
    pair = token_pair_issue(user=user)
    barrier = threading.Barrier(4)
    results: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            barrier.wait()
            token_refresh(refresh=pair.refresh)
            outcome = "won"
        except TokenInvalid:
            outcome = "refused"
        finally:
            connection.close()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(results) == ["refused", "refused", "refused", "won"]
    # the losers presented an already-rotated token: reuse detection revoked the family
    assert RefreshFamily.objects.get(user=user).revoked_reason == "reuse-detected"
