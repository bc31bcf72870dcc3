"""Rules of the notifier's services against the real PostgreSQL (channels faked at their boundary)."""

import datetime as dt
import uuid

import pytest
from conftest import TARIFF, envelope
from django.utils import timezone
from riders.models import Rider

from notifications import services
from notifications.errors import ChatBlocked, TransientError
from notifications.models import InboxEvent, Kind, Notification, Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    """Records instead of sending: mail and Telegram."""
    log = {"mail": [], "telegram": []}
    monkeypatch.setattr(services.mail, "mail_send", lambda **kw: log["mail"].append(kw))
    monkeypatch.setattr(services.telegram, "send_message", lambda **kw: log["telegram"].append(kw))
    return log


def _rider(*, linked: bool = False, **prefs) -> Rider:
    return Rider.objects.create(
        user_id=uuid.uuid4(),
        email="ada@example.com",
        name="Ada",
        telegram_chat_id=4242 if linked else None,
        **prefs,
    )


def _invoice(rider: Rider, invoice_id: str | None = None) -> dict:
    rental_id = str(uuid.uuid4())
    return {
        "invoice_id": invoice_id or str(uuid.uuid4()),
        "invoice_number": "INV-202611-ABC",
        "rental_id": rental_id,
        "user_id": str(rider.user_id),
        "amount": 700,
        "currency": "EUR",
        "s3_key": f"invoices/2026/11/{rental_id}.json",
        "issued_at": "2026-11-23T09:43:12Z",
    }


def _deliver_all() -> list[str]:
    outcomes = []
    for notification_id in services.notifications_claim_due():
        outcomes.append(services.notification_deliver(notification_id=notification_id).outcome)
    return outcomes


def test_an_event_is_applied_once():
    rider = _rider()
    event = envelope("invoice.issued", _invoice(rider), producer="billing-worker")
    assert services.event_apply(envelope=event) is True
    assert services.event_apply(envelope=event) is False
    assert InboxEvent.objects.count() == 1
    assert Notification.objects.filter(kind=Kind.RECEIPT).count() == 1


def test_a_receipt_is_sent_once_per_invoice_even_when_reissued(sent):
    rider = _rider(linked=True)
    data = _invoice(rider)
    services.event_apply(envelope=envelope("invoice.issued", data, producer="billing-worker"))
    # a re-emitted invoice.issued (another event id, same invoice) adds nothing
    services.event_apply(envelope=envelope("invoice.issued", data, producer="billing-worker"))
    assert sorted(Notification.objects.values_list("channel", flat=True)) == ["email", "telegram"]
    assert sorted(_deliver_all()) == ["sent", "sent"]
    assert _deliver_all() == []
    (mail,) = sent["mail"]
    assert "receipt" in mail["subject"].lower() and data["invoice_id"] in mail["body"]
    assert mail["message_id"] == f"<receipt-{data['invoice_id']}@velo.example>"
    assert f"/api/rentals/{data['rental_id']}/invoice" in mail["body"]
    (message,) = sent["telegram"]
    assert message["chat_id"] == 4242 and "7.00 EUR" in message["text"]


def test_a_second_hand_over_of_a_sent_message_sends_nothing(sent):
    rider = _rider()
    services.event_apply(envelope=envelope("invoice.issued", _invoice(rider), producer="billing-worker"))
    (notification_id,) = services.notifications_claim_due()
    assert services.notification_deliver(notification_id=notification_id).outcome == "sent"
    assert services.notification_deliver(notification_id=notification_id).outcome == "skipped"
    assert len(sent["mail"]) == 1


def test_preferences_choose_the_channels():
    rider = _rider(linked=True, receipts_email=False)
    services.event_apply(envelope=envelope("invoice.issued", _invoice(rider), producer="billing-worker"))
    assert list(Notification.objects.values_list("channel", flat=True)) == ["telegram"]


def test_an_unlinked_rider_gets_nothing_on_telegram():
    rider = _rider(linked=False)
    services.event_apply(envelope=envelope("invoice.issued", _invoice(rider), producer="billing-worker"))
    assert list(Notification.objects.values_list("channel", flat=True)) == ["email"]


def test_rental_started_schedules_reminders_that_finishing_cancels():
    rider = _rider()
    rental_id = str(uuid.uuid4())
    started = timezone.now().replace(microsecond=0)
    data = {
        "rental_id": rental_id,
        "user_id": str(rider.user_id),
        "bike_id": str(uuid.uuid4()),
        "bike_number": "VELO-0007",
        "started_at": started.isoformat(),
        "tariff": TARIFF,
    }
    services.event_apply(envelope=envelope("rental.started", data))
    long_rental = Notification.objects.get(kind=Kind.LONG_RENTAL)
    assert long_rental.due_at == started + dt.timedelta(minutes=60)
    assert long_rental.context["cost_so_far"] == "16.00 EUR"  # 100 + 60 x 25
    cap = Notification.objects.get(kind=Kind.DAILY_CAP)
    assert cap.due_at == started + dt.timedelta(seconds=79 * 60 + 1)  # minute 80 reaches 2000
    started_message = Notification.objects.get(kind=Kind.RENTAL_STARTED)
    assert started_message.context["bike"] == "VELO-0007"

    finished = data | {
        "user_email": "ada@example.com",
        "user_name": "Ada",
        "ended_at": (started + dt.timedelta(seconds=1390)).isoformat(),
        "duration_seconds": 1390,
        "end_station_id": None,
        "start_station_id": None,
    }
    services.event_apply(envelope=envelope("rental.finished", finished))
    assert Notification.objects.get(kind=Kind.LONG_RENTAL).status == Status.CANCELLED
    assert Notification.objects.get(kind=Kind.DAILY_CAP).status == Status.CANCELLED
    assert Notification.objects.get(kind=Kind.RENTAL_FINISHED).context["cost"] == "7.00 EUR"


def test_reservation_reminder_is_due_before_expiry_and_cancelled_on_release(settings):
    settings.RESERVATION_REMINDER_SECONDS = 120
    rider = _rider()
    reservation_id = str(uuid.uuid4())
    expires = (timezone.now() + dt.timedelta(minutes=10)).replace(microsecond=0)
    data = {
        "reservation_id": reservation_id,
        "user_id": str(rider.user_id),
        "bike_id": str(uuid.uuid4()),
        "created_at": timezone.now().isoformat(),
        "expires_at": expires.isoformat(),
    }
    services.event_apply(envelope=envelope("reservation.created", data))
    reminder = Notification.objects.get(kind=Kind.RESERVATION_REMINDER)
    assert reminder.due_at == expires - dt.timedelta(seconds=120)
    assert services.notifications_claim_due() == []  # not due yet
    released = {k: data[k] for k in ("reservation_id", "user_id", "bike_id")}
    services.event_apply(
        envelope=envelope(
            "reservation.released", released | {"released_at": timezone.now().isoformat(), "reason": "x"}
        )
    )
    reminder.refresh_from_db()
    assert reminder.status == Status.CANCELLED


def test_reservation_expired_tells_the_rider_and_cancels_the_reminder():
    rider = _rider()
    data = {
        "reservation_id": str(uuid.uuid4()),
        "user_id": str(rider.user_id),
        "bike_id": str(uuid.uuid4()),
        "created_at": timezone.now().isoformat(),
        "expires_at": (timezone.now() + dt.timedelta(minutes=10)).isoformat(),
    }
    services.event_apply(envelope=envelope("reservation.created", data))
    data.pop("created_at")
    services.event_apply(envelope=envelope("reservation.expired", data))
    assert Notification.objects.get(kind=Kind.RESERVATION_REMINDER).status == Status.CANCELLED
    assert Notification.objects.get(kind=Kind.RESERVATION_EXPIRED).status == Status.PENDING


def test_transient_failures_retry_with_backoff_then_fail(monkeypatch, settings):
    settings.NOTIFIER_MAX_RETRIES = 2
    rider = _rider()

    def refuse(**_kw):
        raise TransientError("SMTP down")

    monkeypatch.setattr(services.mail, "mail_send", refuse)
    services.event_apply(envelope=envelope("invoice.issued", _invoice(rider), producer="billing-worker"))
    notification = Notification.objects.get()
    outcomes = [services.notification_deliver(notification_id=notification.pk) for _ in range(3)]
    assert [o.outcome for o in outcomes] == ["retry", "retry", "dead"]
    assert outcomes[1].countdown >= 1
    notification.refresh_from_db()
    assert notification.status == Status.FAILED and "retries exhausted" in notification.last_error


def test_an_unknown_address_waits_for_one(sent):
    user_id = uuid.uuid4()
    data = _invoice(Rider(user_id=user_id))
    services.event_apply(envelope=envelope("invoice.issued", data, producer="billing-worker"))
    (notification_id,) = services.notifications_claim_due()
    assert services.notification_deliver(notification_id=notification_id).outcome == "retry"
    services.rider_contact_update(user_id=user_id, email="late@example.com")
    assert services.notification_deliver(notification_id=notification_id).outcome == "sent"
    assert sent["mail"][0]["to"] == "late@example.com"


def test_telegram_403_unlinks_the_chat(monkeypatch):
    rider = _rider(linked=True, receipts_email=False)

    def blocked(**_kw):
        raise ChatBlocked("bot was blocked by the user")

    monkeypatch.setattr(services.telegram, "send_message", blocked)
    services.event_apply(envelope=envelope("invoice.issued", _invoice(rider), producer="billing-worker"))
    assert _deliver_all() == ["failed"]
    rider.refresh_from_db()
    assert rider.telegram_chat_id is None


def test_telegram_429_retries_after_retry_after(monkeypatch):
    rider = _rider(linked=True, receipts_email=False)

    def limited(**_kw):
        raise TransientError("rate limit", retry_after=7)

    monkeypatch.setattr(services.telegram, "send_message", limited)
    services.event_apply(envelope=envelope("invoice.issued", _invoice(rider), producer="billing-worker"))
    (outcome,) = [
        services.notification_deliver(notification_id=i) for i in services.notifications_claim_due()
    ]
    assert outcome.outcome == "retry" and outcome.countdown == 7


def test_a_message_unlinked_before_sending_is_cancelled(sent):
    rider = _rider(linked=True, receipts_email=False)
    services.event_apply(envelope=envelope("invoice.issued", _invoice(rider), producer="billing-worker"))
    services.telegram_chat_unbind(chat_id=4242)
    assert _deliver_all() == []
    assert sent["telegram"] == []


def test_user_registered_stores_the_address():
    user_id = uuid.uuid4()
    data = {
        "user_id": str(user_id),
        "email": "new@example.com",
        "name": "New",
        "registered_at": "2026-11-23T09:15:00Z",
    }
    services.event_apply(envelope=envelope("user.registered", data, producer="auth"))
    assert Rider.objects.get(user_id=user_id).email == "new@example.com"


def test_a_negative_balance_after_a_charge_says_how_much_to_top_up(sent):
    rider = _rider()
    charged = {
        "user_id": str(rider.user_id),
        "rental_id": str(uuid.uuid4()),
        "invoice_id": str(uuid.uuid4()),
        "amount": 700,
        "currency": "EUR",
        "balance_after": -200,
    }
    services.event_apply(envelope=envelope("wallet.charged", charged))
    services.event_apply(
        envelope=envelope("wallet.charged", charged | {"rental_id": str(uuid.uuid4()), "balance_after": 50})
    )
    assert _deliver_all() == ["sent"]
    (mail,) = sent["mail"]
    assert "2.00 EUR" in mail["subject"] and "Top up at least 2.00 EUR" in mail["body"]
