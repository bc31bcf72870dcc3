import datetime as dt

from reservations.expiry_gate import ExpiryGate

T0 = dt.datetime(2030, 5, 1, 8, 0, tzinfo=dt.UTC)
MIN = dt.timedelta(minutes=1)
DURATION = 10 * MIN


def test_open_until_the_first_check():
    assert ExpiryGate().is_due(now=T0)


def test_shut_until_the_earliest_open_reservation_falls_due():
    gate = ExpiryGate()
    gate.checked(now=T0, earliest_due=T0 + 2 * MIN, duration=DURATION)
    assert not gate.is_due(now=T0 + 2 * MIN - dt.timedelta(microseconds=1))
    assert gate.is_due(now=T0 + 2 * MIN)


def test_without_open_reservations_shut_for_half_a_duration():
    # A reservation created after the check cannot fall due before now + duration; half of it also
    # covers one whose transaction was still open while the check ran.
    gate = ExpiryGate()
    gate.checked(now=T0, earliest_due=None, duration=DURATION)
    assert not gate.is_due(now=T0 + 5 * MIN - dt.timedelta(microseconds=1))
    assert gate.is_due(now=T0 + 5 * MIN)


def test_overdue_leftovers_keep_it_open():
    gate = ExpiryGate()
    gate.checked(now=T0, earliest_due=T0 - MIN, duration=DURATION)  # skipped (locked) or over the batch
    assert gate.is_due(now=T0)


def test_a_reservation_made_here_opens_it_at_its_expiry_and_never_later():
    gate = ExpiryGate()
    gate.checked(now=T0, earliest_due=None, duration=DURATION)
    gate.note_due(expires_at=T0 + 3 * MIN)
    assert not gate.is_due(now=T0 + 3 * MIN - dt.timedelta(microseconds=1))
    assert gate.is_due(now=T0 + 3 * MIN)
    gate.note_due(expires_at=T0 + 9 * MIN)  # later than the gate already is: no change
    assert gate.is_due(now=T0 + 3 * MIN)
