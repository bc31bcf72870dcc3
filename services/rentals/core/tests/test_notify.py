"""core.notify: notifications noted inside a transaction leave after its commit, in one statement."""

import pytest
from django.db import transaction

from core.listener import NotificationListener
from core.notify import notify_on_commit

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def listeners():
    opened = {channel: NotificationListener(channel=channel) for channel in ("velo_test_a", "velo_test_b")}
    for listener in opened.values():
        listener.listen()
    yield opened
    for listener in opened.values():
        listener.close()


def test_notes_leave_after_the_commit_with_their_payloads(listeners):
    with transaction.atomic():
        notify_on_commit("velo_test_a", "rider-1")
        notify_on_commit("velo_test_a", "rider-1")
        notify_on_commit("velo_test_b")
        assert listeners["velo_test_a"].receive(0.3) == []  # nothing while the transaction is open
    assert listeners["velo_test_a"].receive(10) == ["rider-1"]  # repeats sent once
    assert listeners["velo_test_b"].receive(10) == [""]


def test_a_rolled_back_note_only_adds_a_wake_up_to_the_next_commit(listeners):
    with pytest.raises(RuntimeError), transaction.atomic():
        notify_on_commit("velo_test_a", "lost")
        raise RuntimeError("rolled back")
    assert listeners["velo_test_a"].receive(0.3) == []
    notify_on_commit("velo_test_b")  # outside a transaction: at once
    assert listeners["velo_test_b"].receive(10) == [""]
    assert listeners["velo_test_a"].receive(10) == ["lost"]
