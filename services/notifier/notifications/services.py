"""The notifier's writes: apply an event once, decide which messages it causes (per the rider's
preferences), schedule and cancel reminders, hand due messages over, deliver one message."""

import datetime as dt
import logging
import random
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from riders.models import Category, Channel, Rider

from notifications import costs, queries
from notifications.errors import ChatBlocked, PermanentError, TransientError
from notifications.integrations import mail, telegram
from notifications.models import Kind, Notification, Status

logger = logging.getLogger(__name__)

CATEGORY = {
    Kind.RENTAL_STARTED: Category.ACCOUNT,
    Kind.RENTAL_FINISHED: Category.RECEIPTS,
    Kind.RECEIPT: Category.RECEIPTS,
    Kind.RESERVATION_REMINDER: Category.REMINDERS,
    Kind.RESERVATION_EXPIRED: Category.REMINDERS,
    Kind.LONG_RENTAL: Category.REMINDERS,
    Kind.DAILY_CAP: Category.REMINDERS,
    Kind.WALLET_NEGATIVE: Category.ACCOUNT,
}
MAX_BACKOFF_SECONDS = 300


def _time(value: str) -> dt.datetime:
    parsed = parse_datetime(value)
    if parsed is None or parsed.tzinfo is None:
        raise ValueError(f"not an RFC 3339 time: {value!r}")
    return parsed


def _duration_text(seconds: int) -> str:
    hours, rest = divmod(max(0, int(seconds)), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


# ---------------------------------------------------------------- riders' contact data


def rider_contact_update(*, user_id: uuid.UUID, email: str = "", name: str = "") -> Rider:
    """Create or complete a rider's contact data; an address is replaced only by a newer non-empty one."""
    rider, _ = Rider.objects.select_for_update().get_or_create(user_id=user_id)
    changed = []
    if email and rider.email != email:
        rider.email, changed = email, [*changed, "email"]
    if name and rider.name != name:
        rider.name, changed = name, [*changed, "name"]
    if changed:
        rider.save(update_fields=[*changed, "updated_at"])
    return rider


# ---------------------------------------------------------------- deciding what to send


def notifications_create(
    *,
    user_id: uuid.UUID,
    kind: str,
    ref: str,
    context: dict,
    due_at: dt.datetime | None = None,
) -> list[Notification]:
    """One message per channel the rider wants for this kind's category: email (the address is looked up
    when it is sent) and Telegram while a chat is linked. Existing keys are left alone (sent once)."""
    rider, _ = Rider.objects.get_or_create(user_id=user_id)
    category = CATEGORY[kind]
    channels = []
    if rider.wants(category=category, channel=Channel.EMAIL):
        channels.append(Channel.EMAIL)
    linked = rider.telegram_chat_id is not None and telegram.enabled()
    if linked and rider.wants(category=category, channel=Channel.TELEGRAM):
        channels.append(Channel.TELEGRAM)
    rows = [
        Notification(
            key=f"{kind}:{ref}:{channel}",
            user_id=user_id,
            channel=channel,
            kind=kind,
            ref=ref,
            context=context,
            due_at=due_at or timezone.now(),
        )
        for channel in channels
    ]
    return Notification.objects.bulk_create(rows, ignore_conflicts=True)


def telegram_reply_create(
    *, chat_id: int, update_id: int, template: str, context: dict | None = None
) -> None:
    """A bot answer to one update of a chat (linked or not)."""
    Notification.objects.bulk_create(
        [
            Notification(
                key=f"telegram_reply:{update_id}",
                channel=Channel.TELEGRAM,
                kind=Kind.TELEGRAM_REPLY,
                chat_id=chat_id,
                context={"template": template, **(context or {})},
                due_at=timezone.now(),
            )
        ],
        ignore_conflicts=True,
    )


def reminders_cancel(*, ref: str, kinds: list[str]) -> int:
    """Unsent reminders are cancelled (one being sent holds its row lock: this waits, then finds it sent)."""
    return Notification.objects.filter(
        ref=ref, kind__in=kinds, status__in=[Status.PENDING, Status.QUEUED]
    ).update(status=Status.CANCELLED)


# ---------------------------------------------------------------- events


def _user_registered(data: dict) -> None:
    rider_contact_update(user_id=uuid.UUID(data["user_id"]), email=data["email"], name=data.get("name") or "")


def _rental_started(data: dict) -> None:
    user_id, rental_id, tariff = uuid.UUID(data["user_id"]), data["rental_id"], data["tariff"]
    started_at = _time(data["started_at"])
    base = {
        "rental_id": rental_id,
        "bike": data.get("bike_number") or data["bike_id"],
        "station_id": data.get("start_station_id") or "",
        "tariff_name": tariff.get("name", ""),
        "unlock_fee": costs.money(tariff["unlock_fee"], tariff["currency"]),
        "price_per_minute": costs.money(tariff["price_per_minute"], tariff["currency"]),
        "daily_cap": costs.money(tariff["daily_cap"], tariff["currency"]) if tariff.get("daily_cap") else "",
        "started_at": data["started_at"],
    }
    notifications_create(user_id=user_id, kind=Kind.RENTAL_STARTED, ref=rental_id, context=base)
    long_after = int(settings.LONG_RENTAL_REMINDER_MINUTES * 60)
    if long_after > 0:
        notifications_create(
            user_id=user_id,
            kind=Kind.LONG_RENTAL,
            ref=rental_id,
            due_at=started_at + dt.timedelta(seconds=long_after),
            context=base
            | {
                "minutes": round(long_after / 60),
                "cost_so_far": costs.money(
                    costs.rental_cost(duration_seconds=long_after, tariff=tariff), tariff["currency"]
                ),
            },
        )
    cap_after = costs.daily_cap_reached_after(tariff=tariff)
    if cap_after is not None:
        notifications_create(
            user_id=user_id,
            kind=Kind.DAILY_CAP,
            ref=rental_id,
            due_at=started_at + dt.timedelta(seconds=cap_after),
            context=base
            | {
                "cost_so_far": costs.money(
                    costs.rental_cost(duration_seconds=cap_after, tariff=tariff), tariff["currency"]
                )
            },
        )


def _rental_finished(data: dict) -> None:
    user_id, rental_id, tariff = uuid.UUID(data["user_id"]), data["rental_id"], data["tariff"]
    reminders_cancel(ref=rental_id, kinds=[Kind.LONG_RENTAL, Kind.DAILY_CAP])
    # Riders registered before the notifier existed: rental.finished carries their address.
    rider_contact_update(
        user_id=user_id, email=data.get("user_email") or "", name=data.get("user_name") or ""
    )
    cost = costs.rental_cost(duration_seconds=data["duration_seconds"], tariff=tariff)
    notifications_create(
        user_id=user_id,
        kind=Kind.RENTAL_FINISHED,
        ref=rental_id,
        context={
            "rental_id": rental_id,
            "bike": data.get("bike_number") or data["bike_id"],
            "duration": _duration_text(data["duration_seconds"]),
            "cost": costs.money(cost, tariff["currency"]),
            "ended_at": data["ended_at"],
        },
    )


def _reservation_created(data: dict) -> None:
    expires_at = _time(data["expires_at"])
    now = timezone.now()
    if expires_at <= now:
        return
    due = max(now, expires_at - dt.timedelta(seconds=settings.RESERVATION_REMINDER_SECONDS))
    notifications_create(
        user_id=uuid.UUID(data["user_id"]),
        kind=Kind.RESERVATION_REMINDER,
        ref=data["reservation_id"],
        due_at=due,
        context={
            "reservation_id": data["reservation_id"],
            "expires_at": data["expires_at"],
            "seconds_left": round((expires_at - due).total_seconds()),
            "expires_time": expires_at.strftime("%H:%M:%S UTC"),
        },
    )


def _reservation_released(data: dict) -> None:
    reminders_cancel(ref=data["reservation_id"], kinds=[Kind.RESERVATION_REMINDER])


def _reservation_expired(data: dict) -> None:
    reminders_cancel(ref=data["reservation_id"], kinds=[Kind.RESERVATION_REMINDER])
    notifications_create(
        user_id=uuid.UUID(data["user_id"]),
        kind=Kind.RESERVATION_EXPIRED,
        ref=data["reservation_id"],
        context={"reservation_id": data["reservation_id"], "expires_at": data["expires_at"]},
    )


def _invoice_issued(data: dict) -> None:
    notifications_create(
        user_id=uuid.UUID(data["user_id"]),
        kind=Kind.RECEIPT,
        ref=data["invoice_id"],
        context={
            "invoice_id": data["invoice_id"],
            "invoice_number": data.get("invoice_number") or data["invoice_id"],
            "rental_id": data["rental_id"],
            "total": costs.money(data["amount"], data["currency"]),
            "issued_at": data.get("issued_at") or "",
            "invoice_url": f"{settings.PUBLIC_BASE_URL}/api/rentals/{data['rental_id']}/invoice",
        },
    )


def _wallet_charged(data: dict) -> None:
    if data["balance_after"] >= 0:
        return
    notifications_create(
        user_id=uuid.UUID(data["user_id"]),
        kind=Kind.WALLET_NEGATIVE,
        ref=data["rental_id"],
        context={
            "rental_id": data["rental_id"],
            "charged": costs.money(data["amount"], data["currency"]),
            "balance": costs.money(data["balance_after"], data["currency"]),
            "top_up": costs.money(-data["balance_after"], data["currency"]),
        },
    )


HANDLERS = {
    "user.registered": _user_registered,
    "rental.started": _rental_started,
    "rental.finished": _rental_finished,
    "reservation.created": _reservation_created,
    "reservation.released": _reservation_released,
    "reservation.expired": _reservation_expired,
    "invoice.issued": _invoice_issued,
    "wallet.charged": _wallet_charged,
}


@transaction.atomic
def event_apply(*, envelope: dict) -> bool:
    """Apply a (validated) event once: its event_id goes into the inbox in the same transaction as what it
    causes. Returns False for an event already applied."""
    if not queries.inbox_record(event_id=envelope["event_id"], event_type=envelope["event_type"]):
        return False
    HANDLERS[envelope["event_type"]](envelope["data"])
    return True


# ---------------------------------------------------------------- hand-over and delivery


def notifications_claim_due(*, limit: int = 200) -> list[int]:
    """Due messages (and ones whose hand-over lease ran out) become QUEUED with a new lease; the caller
    hands each to the worker. SKIP LOCKED: several dispatchers never claim the same row."""
    now = timezone.now()
    lease = dt.timedelta(seconds=settings.NOTIFIER_DELIVERY_LEASE_SECONDS)
    with transaction.atomic():
        ids = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(status__in=[Status.PENDING, Status.QUEUED], due_at__lte=now)
            .order_by("due_at")
            .values_list("id", flat=True)[:limit]
        )
        if ids:
            Notification.objects.filter(id__in=ids).update(status=Status.QUEUED, due_at=now + lease)
    return ids


def retry_countdown(*, attempts: int) -> float:
    """Exponential backoff with jitter: about 1, 2, 4 ... s, at most 300 s."""
    ceiling = min(MAX_BACKOFF_SECONDS, 2 ** max(0, attempts - 1))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


@dataclass(frozen=True)
class Delivery:
    outcome: str  # sent | skipped | cancelled | failed | retry | dead
    countdown: float = 0.0
    error: str = ""


def message_render(*, notification: Notification, rider: Rider | None) -> tuple[str, str]:
    """(subject, text) from the templates notifications/<kind>.subject.txt and <kind>.txt; email wraps the
    text in notifications/email.txt."""
    context = dict(notification.context)
    context["name"] = (rider.name if rider else "") or "rider"
    template = context.get("template") or notification.kind
    text = render_to_string(f"notifications/{template}.txt", context).strip() + "\n"
    if notification.channel != Channel.EMAIL:
        return "", text
    subject = render_to_string(f"notifications/{template}.subject.txt", context).strip()
    body = render_to_string("notifications/email.txt", context | {"text": text})
    return subject, body


def _message_id(notification: Notification) -> str:
    if notification.kind == Kind.RECEIPT:  # the Message-ID billing gave receipts before the notifier
        return f"<receipt-{notification.ref}@velo.example>"
    return f"<{notification.kind}-{notification.ref or notification.id}@velo.example>"


def telegram_chat_unbind(*, chat_id: int) -> None:
    """The chat is no rider's any more; its rider's unsent Telegram messages are cancelled."""
    users = list(Rider.objects.filter(telegram_chat_id=chat_id).values_list("user_id", flat=True))
    Notification.objects.filter(
        channel=Channel.TELEGRAM, chat_id=None, user_id__in=users, status__in=[Status.PENDING, Status.QUEUED]
    ).update(status=Status.CANCELLED)
    Rider.objects.filter(user_id__in=users).update(telegram_chat_id=None, telegram_linked_at=None)


def notification_deliver(*, notification_id: int) -> Delivery:
    """Send one message. Its row stays locked while it is sent, so a second hand-over of the same message
    skips it (SKIP LOCKED) and a cancellation waits. A crash after the send but before the commit sends it
    again once (email: with the same Message-ID)."""
    with transaction.atomic():
        n = (
            Notification.objects.select_for_update(skip_locked=True)
            .filter(pk=notification_id, status__in=[Status.PENDING, Status.QUEUED])
            .first()
        )
        if n is None:
            return Delivery("skipped")
        rider = Rider.objects.filter(pk=n.user_id).first() if n.user_id else None
        try:
            if n.channel == Channel.EMAIL:
                if rider is None or not rider.email:
                    raise TransientError("no email address known for this rider yet")
                subject, body = message_render(notification=n, rider=rider)
                mail.mail_send(to=rider.email, subject=subject, body=body, message_id=_message_id(n))
            else:
                chat_id = n.chat_id or (rider.telegram_chat_id if rider else None)
                if chat_id is None or not telegram.enabled():
                    n.status, n.last_error = Status.CANCELLED, "Telegram not linked (or the channel is off)"
                    n.save(update_fields=["status", "last_error"])
                    return Delivery("cancelled")
                _, text = message_render(notification=n, rider=rider)
                telegram.send_message(chat_id=chat_id, text=text)
        except ChatBlocked as exc:
            logger.warning("telegram chat blocked the bot; unlinking it", extra={"notification": n.pk})
            telegram_chat_unbind(chat_id=n.chat_id or rider.telegram_chat_id)
            return _failed(n, str(exc))
        except PermanentError as exc:
            logger.error("message refused for good", extra={"notification": n.pk, "error": str(exc)})
            return _failed(n, str(exc))
        except TransientError as exc:
            n.attempts += 1
            n.last_error = str(exc)
            if n.attempts > settings.NOTIFIER_MAX_RETRIES:
                _failed(n, f"retries exhausted: {exc}")
                return Delivery("dead", error=n.last_error)
            countdown = (
                exc.retry_after if exc.retry_after is not None else retry_countdown(attempts=n.attempts)
            )
            lease = dt.timedelta(seconds=countdown + settings.NOTIFIER_DELIVERY_LEASE_SECONDS)
            n.status, n.due_at = Status.QUEUED, timezone.now() + lease
            n.save(update_fields=["attempts", "last_error", "status", "due_at"])
            return Delivery("retry", countdown=countdown, error=str(exc))
        n.status, n.sent_at, n.attempts = Status.SENT, timezone.now(), n.attempts + 1
        n.save(update_fields=["status", "sent_at", "attempts"])
        return Delivery("sent")


def _failed(n: Notification, error: str) -> Delivery:
    n.status, n.last_error = Status.FAILED, error
    n.save(update_fields=["status", "last_error", "attempts"])
    return Delivery("failed", error=error)
