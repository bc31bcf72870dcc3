"""The consumer callback: forward valid events, dead-letter invalid ones, never raise."""

import pytest

from billing.consumers import ConfirmedHandover, rental_finished_receive
from billing.tests.conftest import INVALID_RENTAL_FINISHED, VALID_RENTAL_FINISHED, load_example
from billing.tests.fakes import FakeMessage


class Recorder:
    def __init__(self, fail: bool = False):
        self.forwarded: list[dict] = []
        self.dead: list[dict] = []
        self.fail = fail

    def forward(self, event, message):
        if self.fail:
            raise ConnectionError("broker gone")
        self.forwarded.append((event, message))

    def dead_letter(self, **kwargs):
        if self.fail:
            raise ConnectionError("broker gone")
        self.dead.append(kwargs)


def receive(message, recorder):
    return rental_finished_receive(
        message=message, forward=recorder.forward, dead_letter=recorder.dead_letter, retry_delay=0
    )


@pytest.mark.parametrize("path", VALID_RENTAL_FINISHED, ids=lambda p: p.name)
def test_valid_examples_are_forwarded_and_left_for_the_confirm_to_ack(path):
    recorder, message = Recorder(), FakeMessage(body=path.read_bytes())
    assert receive(message, recorder) == "forwarded"
    assert recorder.forwarded == [(load_example(path), message)]
    assert recorder.dead == []
    assert not message.acked and message.rejected is None


@pytest.mark.parametrize("path", INVALID_RENTAL_FINISHED, ids=lambda p: p.name)
def test_invalid_examples_are_dead_lettered_with_reason_then_acked(path):
    recorder = Recorder()
    message = FakeMessage(body=path.read_bytes(), properties={"message_id": "m-1"})
    assert receive(message, recorder) == "dead-lettered"
    [dead] = recorder.dead
    assert dead["body"] == path.read_bytes()
    assert "schema rental.finished.v1" in dead["reason"]
    assert dead["message_id"] == "m-1"
    assert recorder.forwarded == []
    assert message.acked


def test_garbage_is_dead_lettered_not_raised():
    recorder, message = Recorder(), FakeMessage(body=b"\x00garbage", content_type="text/plain")
    assert receive(message, recorder) == "dead-lettered"
    assert recorder.dead[0]["content_type"] == "text/plain"
    assert message.acked


def test_broker_trouble_requeues_instead_of_raising():
    path = VALID_RENTAL_FINISHED[0]
    message = FakeMessage(body=path.read_bytes())
    assert receive(message, Recorder(fail=True)) == "requeued"
    assert not message.acked
    assert message.rejected is True


def handed_over(count: int) -> tuple[ConfirmedHandover, list[FakeMessage]]:
    handover, messages = ConfirmedHandover(), [FakeMessage(body=b"{}") for _ in range(count)]
    for message in messages:
        handover.published(message)
    return handover, messages


def test_a_confirm_acks_exactly_its_event():
    handover, messages = handed_over(3)
    handover.on_ack(2)
    assert [m.acked for m in messages] == [False, True, False]
    assert sorted(handover.pending) == [1, 3]


def test_a_multiple_confirm_acks_every_event_up_to_its_tag():
    handover, messages = handed_over(4)
    handover.on_ack(2)
    handover.on_ack(3, multiple=True)
    assert [m.acked for m in messages] == [True, True, True, False]
    assert sorted(handover.pending) == [4]


def test_a_nack_requeues_the_events_instead_of_acking():
    handover, messages = handed_over(3)
    handover.on_nack(2, multiple=True)
    handover.on_ack(3)
    assert [(m.acked, m.rejected) for m in messages] == [(False, True), (False, True), (True, None)]
    assert handover.pending == {}


def test_publishes_that_hand_over_no_event_keep_the_numbering():
    handover = ConfirmedHandover()
    handover.published(None)  # e.g. a declaration-time publish
    message = FakeMessage(body=b"{}")
    handover.published(message)
    handover.on_ack(2, multiple=True)
    assert message.acked and handover.pending == {}
