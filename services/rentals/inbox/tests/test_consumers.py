import copy
import datetime as dt
import json
import threading
import uuid

import pytest
from agencies.models import RevokedAgencyClient
from agencies.selectors import agency_client_is_revoked
from django.db import connection
from django.utils import timezone
from fleet.models import Bike
from outbox.models import OutboxEvent
from rentals.models import Rental
from riders.models import Rider
from wallets.models import LedgerEntry, Wallet

from inbox.consumers import Outcome, handle_batch, handle_message

CONSUMED = [
    "invoice.issued",
    "billing.reconciliation_requested",
    "user.deactivated",
    "user.reactivated",
    "agency_client.revoked",
]
PRODUCED_ELSEWHERE = ["rental.started", "rental.finished", "user.registered", "reservation.created"]


def _encode(message: dict) -> bytes:
    return json.dumps(message).encode()


def _cost(duration_seconds: int) -> int:
    """What the conftest tariff (100 + 25 per started minute, cap 2000 a day) charges."""
    return 100 + -(-duration_seconds // 60) * 25


@pytest.fixture
def finished_rental_for(tariff, station):
    def _make(
        *,
        rental_id: uuid.UUID,
        user_id: uuid.UUID,
        ended_ago: dt.timedelta = dt.timedelta(minutes=10),
        duration_seconds: int = 1390,  # the contract examples' ride: 700 with the conftest tariff
    ):
        bike = Bike.objects.create(number=f"B-{uuid.uuid4().hex[:6]}", model="m", station=station)
        ended = timezone.now() - ended_ago
        return Rental.objects.create(
            id=rental_id,
            user_id=user_id,
            user_email="ada@example.com",
            user_name="Ada Lovelace",
            bike=bike,
            bike_number=bike.number,
            status="finished",
            started_at=ended - dt.timedelta(seconds=duration_seconds),
            ended_at=ended,
            duration_seconds=duration_seconds,
            tariff=tariff,
            tariff_snapshot=tariff.snapshot(),
        )

    return _make


@pytest.mark.django_db
def test_every_consumed_contract_example_is_applied(contract_examples, finished_rental_for):
    for event_type in CONSUMED:
        examples = contract_examples(event_type)
        assert examples, f"no examples for {event_type}"
        for name, message in examples:
            if event_type == "invoice.issued":
                data = message["data"]
                if not Rental.objects.filter(id=data["rental_id"]).exists():
                    finished_rental_for(
                        rental_id=uuid.UUID(data["rental_id"]), user_id=uuid.UUID(data["user_id"])
                    )
            assert handle_message(_encode(message)) is Outcome.ACK, (event_type, name)


@pytest.mark.django_db
def test_invoice_issued_applied_twice_debits_once(contract_examples, finished_rental_for):
    _, message = contract_examples("invoice.issued")[0]
    data = message["data"]
    finished_rental_for(rental_id=uuid.UUID(data["rental_id"]), user_id=uuid.UUID(data["user_id"]))
    assert handle_message(_encode(message)) is Outcome.ACK
    redelivered = copy.deepcopy(message)
    redelivered["event_id"] = str(uuid.uuid4())  # a re-publication carries a new event id
    assert handle_message(_encode(message)) is Outcome.ACK
    assert handle_message(_encode(redelivered)) is Outcome.ACK
    rental = Rental.objects.get(id=data["rental_id"])
    assert (rental.cost_amount, rental.cost_currency, str(rental.invoice_id)) == (
        700,
        "EUR",
        data["invoice_id"],
    )
    assert rental.invoice_s3_key == data["s3_key"] and rental.billing_status == "billed"
    assert Wallet.objects.get(user_id=data["user_id"]).balance == -700
    assert LedgerEntry.objects.filter(kind="rental_charge", reference=data["rental_id"]).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_invoice_deliveries_debit_once(contract_examples, finished_rental_for):
    _, message = contract_examples("invoice.issued")[0]
    data = message["data"]
    finished_rental_for(rental_id=uuid.UUID(data["rental_id"]), user_id=uuid.UUID(data["user_id"]))
    barrier = threading.Barrier(6)
    outcomes = []

    def worker():
        try:
            barrier.wait(timeout=10)
            outcomes.append(handle_message(_encode(message)))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert outcomes == [Outcome.ACK] * 6
    assert Wallet.objects.get(user_id=data["user_id"]).balance == -700
    assert LedgerEntry.objects.count() == 1


@pytest.mark.django_db
def test_invalid_examples_and_foreign_events_are_dead_lettered(contract_examples):
    messages = [m for _, m in contract_examples("rental.finished", invalid=True)]
    for event_type in PRODUCED_ELSEWHERE:
        messages += [m for _, m in contract_examples(event_type)]
    assert messages
    for message in messages:
        assert handle_message(_encode(message)) is Outcome.DEAD_LETTER, message["event_type"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b"null",
        b'{"event_type": "invoice.issued"}',
        b'{"event_type":"x.y","version":1}',
    ],
)
def test_garbage_is_dead_lettered(body):
    assert handle_message(body) is Outcome.DEAD_LETTER


@pytest.mark.django_db
def test_schema_invalid_invoice_is_dead_lettered(contract_examples, finished_rental_for):
    _, message = contract_examples("invoice.issued")[0]
    finished_rental_for(
        rental_id=uuid.UUID(message["data"]["rental_id"]), user_id=uuid.UUID(message["data"]["user_id"])
    )
    for mutate in (
        lambda m: m["data"].__setitem__("amount", 7.5),
        lambda m: m["data"].__setitem__("amount", -1),
        lambda m: m["data"].pop("s3_key"),
        lambda m: m.__setitem__("producer", "someone"),
    ):
        bad = copy.deepcopy(message)
        mutate(bad)
        assert handle_message(_encode(bad)) is Outcome.DEAD_LETTER
    assert not LedgerEntry.objects.exists()


@pytest.mark.django_db
def test_invoice_for_unknown_or_foreign_rental_is_dead_lettered(contract_examples, finished_rental_for):
    _, message = contract_examples("invoice.issued")[0]
    assert handle_message(_encode(message)) is Outcome.DEAD_LETTER
    finished_rental_for(rental_id=uuid.UUID(message["data"]["rental_id"]), user_id=uuid.uuid4())
    assert handle_message(_encode(message)) is Outcome.DEAD_LETTER
    assert not LedgerEntry.objects.exists()


@pytest.mark.django_db
def test_reconciliation_reemits_only_old_unbilled_finished_rentals(
    contract_examples, finished_rental_for, bike
):
    _, message = contract_examples("billing.reconciliation_requested")[0]
    old = finished_rental_for(rental_id=uuid.uuid4(), user_id=uuid.uuid4(), ended_ago=dt.timedelta(hours=1))
    finished_rental_for(rental_id=uuid.uuid4(), user_id=uuid.uuid4(), ended_ago=dt.timedelta(seconds=5))
    billed = finished_rental_for(
        rental_id=uuid.uuid4(), user_id=uuid.uuid4(), ended_ago=dt.timedelta(hours=1)
    )
    Rental.objects.filter(id=billed.id).update(invoice_id=uuid.uuid4(), cost_amount=1, cost_currency="EUR")
    assert handle_message(_encode(message)) is Outcome.ACK
    events = list(OutboxEvent.objects.filter(event_type="rental.finished"))
    assert [e.payload["data"]["rental_id"] for e in events] == [str(old.id)]
    assert events[0].payload["data"]["user_email"] == "ada@example.com"


@pytest.mark.django_db
def test_user_events_apply_in_time_order(contract_examples):
    _, deactivated = contract_examples("user.deactivated")[0]
    _, reactivated = contract_examples("user.reactivated")[0]
    user_id = deactivated["data"]["user_id"]
    # Reactivated (11:00) arrives first, then the older deactivation (10:00): the rider stays active.
    assert handle_message(_encode(reactivated)) is Outcome.ACK
    assert handle_message(_encode(deactivated)) is Outcome.ACK
    assert Rider.objects.get(user_id=user_id).is_deactivated is False
    newer = copy.deepcopy(deactivated)
    newer["data"]["deactivated_at"] = "2026-11-23T12:00:00Z"
    assert handle_message(_encode(newer)) is Outcome.ACK
    assert handle_message(_encode(newer)) is Outcome.ACK
    assert Rider.objects.get(user_id=user_id).is_deactivated is True


@pytest.mark.django_db
def test_reconciliation_skips_rentals_with_undelivered_event(contract_examples, finished_rental_for):
    _, message = contract_examples("billing.reconciliation_requested")[0]
    finished_rental_for(rental_id=uuid.uuid4(), user_id=uuid.uuid4(), ended_ago=dt.timedelta(hours=1))
    assert handle_message(_encode(message)) is Outcome.ACK
    assert handle_message(_encode(message)) is Outcome.ACK  # first event not published yet: no duplicate
    assert OutboxEvent.objects.filter(event_type="rental.finished").count() == 1
    OutboxEvent.objects.update(published_at=timezone.now())
    assert handle_message(_encode(message)) is Outcome.ACK  # still unbilled after delivery: ask again
    assert OutboxEvent.objects.filter(event_type="rental.finished").count() == 2


def _invoice_for(message: dict, *, rental_id: uuid.UUID, user_id: uuid.UUID, amount: int) -> dict:
    invoice = copy.deepcopy(message)
    invoice["event_id"] = str(uuid.uuid4())
    invoice["data"].update(
        rental_id=str(rental_id), user_id=str(user_id), invoice_id=str(uuid.uuid4()), amount=amount
    )
    return invoice


@pytest.mark.django_db
def test_a_batch_applies_each_invoice_once_and_dead_letters_only_the_unappliable(
    contract_examples, finished_rental_for
):
    _, example = contract_examples("invoice.issued")[0]
    riders = [uuid.uuid4() for _ in range(3)]
    invoices = []
    for index, rider in enumerate(riders * 2):  # two rentals per rider, in mixed order
        rental_id = uuid.uuid4()
        finished_rental_for(rental_id=rental_id, user_id=rider, duration_seconds=60 * (index + 1))
        invoices.append(
            _invoice_for(example, rental_id=rental_id, user_id=rider, amount=_cost(60 * (index + 1)))
        )
    unknown = _invoice_for(example, rental_id=uuid.uuid4(), user_id=riders[0], amount=125)
    foreign = _invoice_for(example, rental_id=uuid.UUID(invoices[1]["data"]["rental_id"]),
                           user_id=uuid.uuid4(), amount=150)  # fmt: skip
    bodies = [_encode(m) for m in [invoices[0], unknown, *invoices[1:], foreign, invoices[0]]] + [b"{garbage"]
    outcomes = handle_batch(bodies)
    assert outcomes == [Outcome.ACK, Outcome.DEAD_LETTER, *[Outcome.ACK] * 5, Outcome.DEAD_LETTER,
                        Outcome.ACK, Outcome.DEAD_LETTER]  # fmt: skip
    assert LedgerEntry.objects.count() == 6
    for index, rider in enumerate(riders):
        expected = -(_cost(60 * (index + 1)) + _cost(60 * (index + 4)))
        assert Wallet.objects.get(user_id=rider).balance == expected
        assert LedgerEntry.objects.filter(wallet_id=rider).order_by("id").last().balance_after == expected
    billed = Rental.objects.filter(invoice_id__isnull=False)
    assert sorted(r.cost_amount for r in billed) == sorted(i["data"]["amount"] for i in invoices)
    # the same batch again (a redelivery) changes nothing
    assert handle_batch(bodies[:1] + bodies[2:7]) == [Outcome.ACK] * 6
    assert LedgerEntry.objects.count() == 6


@pytest.mark.django_db(transaction=True)
def test_a_database_failure_retries_the_whole_batch_and_applies_nothing(
    contract_examples, finished_rental_for, monkeypatch
):
    from django.db import OperationalError

    import inbox.consumers as consumers

    _, example = contract_examples("invoice.issued")[0]
    rider = uuid.uuid4()
    messages = []
    for seconds in (60, 120):
        rental_id = uuid.uuid4()
        finished_rental_for(rental_id=rental_id, user_id=rider, duration_seconds=seconds)
        messages.append(_invoice_for(example, rental_id=rental_id, user_id=rider, amount=_cost(seconds)))
    real = consumers.HANDLERS["invoice.issued"]
    calls = []

    def flaky(data):
        calls.append(data["amount"])
        if len(calls) == 2:
            raise OperationalError("server closed the connection unexpectedly")
        real(data)

    monkeypatch.setitem(consumers.HANDLERS, "invoice.issued", flaky)
    assert handle_batch([_encode(m) for m in messages] + [b"null"]) == [
        Outcome.RETRY, Outcome.RETRY, Outcome.DEAD_LETTER
    ]  # fmt: skip
    assert not LedgerEntry.objects.exists()
    assert not Rental.objects.filter(invoice_id__isnull=False).exists()


# ---------------------------------------------------------------------------------- producer identity


@pytest.mark.django_db
def test_each_event_type_is_accepted_only_from_its_producers_broker_user(
    contract_examples, finished_rental_for
):
    producers = {"invoice.issued": "billing", "billing.reconciliation_requested": "billing",
                 "user.deactivated": "auth", "user.reactivated": "auth",
                 "agency_client.revoked": "auth"}  # fmt: skip
    for event_type, producer in producers.items():
        _, message = contract_examples(event_type)[0]
        for user_id in {"auth", "rentals", "billing", "velo", "guest", None} - {producer}:
            assert handle_message(_encode(message), user_id=user_id) is Outcome.DEAD_LETTER, (
                event_type,
                user_id,
            )
    assert not LedgerEntry.objects.exists() and not Rider.objects.exists()
    assert not RevokedAgencyClient.objects.exists()
    assert not OutboxEvent.objects.exists()  # the forged reconciliation request re-emitted nothing
    _, invoice = contract_examples("invoice.issued")[0]
    finished_rental_for(
        rental_id=uuid.UUID(invoice["data"]["rental_id"]), user_id=uuid.UUID(invoice["data"]["user_id"])
    )
    assert handle_message(_encode(invoice), user_id="billing") is Outcome.ACK
    _, deactivated = contract_examples("user.deactivated")[0]
    assert handle_message(_encode(deactivated), user_id="auth") is Outcome.ACK
    assert LedgerEntry.objects.count() == 1 and Rider.objects.get().is_deactivated


@pytest.mark.django_db
def test_agency_client_revoked_is_kept_once(contract_examples):
    _, revoked = contract_examples("agency_client.revoked")[0]
    client_id = uuid.UUID(revoked["data"]["client_id"])
    assert agency_client_is_revoked(client_id=client_id) is False
    assert handle_message(_encode(revoked), user_id="auth") is Outcome.ACK
    redelivered = copy.deepcopy(revoked)
    redelivered["data"]["revoked_at"] = "2026-12-05T00:00:00Z"
    assert handle_message(_encode(redelivered), user_id="auth") is Outcome.ACK
    kept = RevokedAgencyClient.objects.get()
    assert (kept.client_id, kept.revoked_at) == (client_id, dt.datetime(2026, 12, 4, 21, 50, tzinfo=dt.UTC))
    assert agency_client_is_revoked(client_id=client_id) is True
    assert agency_client_is_revoked(client_id=uuid.uuid4()) is False


@pytest.mark.django_db
def test_the_expected_producer_users_come_from_settings(contract_examples, settings):
    settings.AMQP_PRODUCER_USERS = {**settings.AMQP_PRODUCER_USERS, "auth": "velo-auth"}
    _, deactivated = contract_examples("user.deactivated")[0]
    assert handle_message(_encode(deactivated), user_id="auth") is Outcome.DEAD_LETTER
    assert handle_message(_encode(deactivated), user_id="velo-auth") is Outcome.ACK


def test_amqp_producer_users_env_overrides_some_defaults(monkeypatch):
    import importlib

    from config.settings import base

    monkeypatch.setenv("AMQP_PRODUCER_USERS", " billing = velo , auth=velo")
    try:
        assert importlib.reload(base).AMQP_PRODUCER_USERS == {
            "auth": "velo",
            "rentals": "rentals",
            "billing": "velo",
        }
    finally:
        monkeypatch.delenv("AMQP_PRODUCER_USERS")
        importlib.reload(base)


@pytest.mark.django_db
def test_a_forged_producer_is_logged(contract_examples, caplog):
    _, message = contract_examples("invoice.issued")[0]
    with caplog.at_level("WARNING", logger="inbox.consumers"):
        assert handle_message(_encode(message), user_id="rentals") is Outcome.DEAD_LETTER
    [record] = [r for r in caplog.records if "unexpected broker user" in r.getMessage()]
    assert (record.user_id, record.expected_user_id, record.event_type) == (
        "rentals",
        "billing",
        "invoice.issued",
    )


@pytest.mark.django_db
def test_an_invoice_amount_other_than_the_tariff_snapshots_is_dead_lettered(
    contract_examples, finished_rental_for
):
    _, message = contract_examples("invoice.issued")[0]
    data = message["data"]
    finished_rental_for(rental_id=uuid.UUID(data["rental_id"]), user_id=uuid.UUID(data["user_id"]))
    for amount in (0, 1, 699, 701, 100_000):
        forged = copy.deepcopy(message)
        forged["data"]["amount"] = amount
        assert handle_message(_encode(forged), user_id="billing") is Outcome.DEAD_LETTER, amount
    assert not LedgerEntry.objects.exists()
    assert Rental.objects.get(id=data["rental_id"]).invoice_id is None
    assert handle_message(_encode(message), user_id="billing") is Outcome.ACK  # 700 is right
