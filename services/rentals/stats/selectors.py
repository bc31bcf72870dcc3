"""The day in numbers for operators. Hours that are settled (stats.models.SettledHour) are read as stored;
the rest of the day is aggregated live over index ranges (rentals started or ended in it), plus the partial
indexes of active and unbilled rentals and open problem reports. So a request costs the rides of the last
hour or two, not of the whole day or the history (BENCHMARKS.md, S8)."""

import datetime as dt

from django.db.models import Count, DurationField, ExpressionWrapper, F, Min, Sum
from django.db.models.functions import TruncHour
from django.utils import timezone
from problems.models import ProblemReport, ProblemStatus
from rentals.models import Rental, RentalStatus

from stats.models import SettledHour

# An hour is settled this long after its end (a rental's times are taken just before its commit) once every
# ride that ended by then is billed (billing takes seconds; reconciliation catches up within minutes).
SETTLE_AFTER = dt.timedelta(minutes=10)
FIGURES = ("rides_started", "rides_finished", "ride_seconds", "billed", "lag_seconds", "revenue")


def _hour(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


def day_start(*, now: dt.datetime) -> dt.datetime:
    return _hour(now).replace(hour=0)


def empty_figures() -> dict:
    return {
        "rides_started": 0,
        "rides_finished": 0,
        "ride_seconds": 0,
        "billed": 0,
        "lag_seconds": 0.0,
        "revenue": {},
    }


def hour_figures(*, start: dt.datetime, end: dt.datetime) -> dict[dt.datetime, dict]:
    """The figures of each UTC hour in [start, end) that has rides (two index-only range aggregates)."""
    hours: dict[dt.datetime, dict] = {}
    started = (
        Rental.objects.filter(started_at__gte=start, started_at__lt=end)
        .annotate(hour=TruncHour("started_at", tzinfo=dt.UTC))
        .values("hour")
        .annotate(n=Count("*"))
        .order_by()
    )
    for row in started:
        hours.setdefault(row["hour"], empty_figures())["rides_started"] = row["n"]
    lag = ExpressionWrapper(F("billed_at") - F("ended_at"), output_field=DurationField())
    finished = (
        Rental.objects.filter(ended_at__gte=start, ended_at__lt=end)
        .annotate(hour=TruncHour("ended_at", tzinfo=dt.UTC))
        .values("hour", "cost_currency")
        .annotate(
            n=Count("*"),
            revenue=Sum("cost_amount"),
            ride_seconds=Sum("duration_seconds"),
            billed=Count("billed_at"),
            lag=Sum(lag),
        )
        .order_by()
    )
    for row in finished:
        slot = hours.setdefault(row["hour"], empty_figures())
        slot["rides_finished"] += row["n"]
        slot["ride_seconds"] += row["ride_seconds"] or 0
        slot["billed"] += row["billed"]
        slot["lag_seconds"] += row["lag"].total_seconds() if row["lag"] else 0.0
        currency = row["cost_currency"]
        if currency and row["revenue"] is not None:
            slot["revenue"][currency] = slot["revenue"].get(currency, 0) + row["revenue"]
    return hours


def billing_pending() -> dict:
    """Finished rentals of any day without an invoice: how many, and the oldest one's end."""
    return Rental.objects.filter(status=RentalStatus.FINISHED, invoice_id__isnull=True).aggregate(
        n=Count("*"), oldest=Min("ended_at")
    )


def settled_until(*, now: dt.datetime, oldest_pending: dt.datetime | None) -> dt.datetime:
    """Every hour of today before the returned one is settled."""
    until = max(day_start(now=now), _hour(now - SETTLE_AFTER))
    if oldest_pending is not None:
        until = max(day_start(now=now), min(until, _hour(oldest_pending)))
    return until


def stats_today(*, now: dt.datetime | None = None) -> tuple[dict, dict[dt.datetime, dict]]:
    """Rides started and finished, revenue and ride time per UTC hour of today (up to the current hour),
    the day's totals, billing lag and the live counts. Revenue is the billed cost of the rides that finished
    in that hour, per currency; a ride not billed yet counts in `billing.pending`.

    Also returns the figures of the settled hours that were aggregated live because they are not stored yet,
    for stats.services.settled_hours_store."""
    now = now or timezone.now()
    start = day_start(now=now)
    current = _hour(now)
    pending = billing_pending()
    settled = settled_until(now=now, oldest_pending=pending["oldest"])
    stored = {
        row["hour"]: row
        for row in SettledHour.objects.filter(hour__gte=start, hour__lt=settled).values("hour", *FIGURES)
    }
    live_from = start
    while live_from in stored:
        live_from += dt.timedelta(hours=1)
    live = hour_figures(start=live_from, end=start + dt.timedelta(days=1))
    hours = {}
    hour = start
    while hour <= current:
        hours[hour] = stored[hour] if hour < live_from else live.get(hour, empty_figures())
        hour += dt.timedelta(hours=1)

    def money(amounts: dict[str, int]) -> list[dict]:
        return [{"amount": amount, "currency": currency} for currency, amount in sorted(amounts.items())]

    revenue: dict[str, int] = {}
    for figures in hours.values():
        for currency, amount in figures["revenue"].items():
            revenue[currency] = revenue.get(currency, 0) + amount
    finished = sum(figures["rides_finished"] for figures in hours.values())
    billed = sum(figures["billed"] for figures in hours.values())
    newly_settled = {hour: figures for hour, figures in hours.items() if live_from <= hour < settled}
    return {
        "date": start.date(),
        "generated_at": now,
        "hours": [
            {
                "hour": hour,
                "rides_started": figures["rides_started"],
                "rides_finished": figures["rides_finished"],
                "revenue": money(figures["revenue"]),
            }
            for hour, figures in hours.items()
        ],
        "totals": {
            "rides_started": sum(figures["rides_started"] for figures in hours.values()),
            "rides_finished": finished,
            "revenue": money(revenue),
            "average_duration_seconds": (
                round(sum(figures["ride_seconds"] for figures in hours.values()) / finished)
                if finished
                else None
            ),
        },
        "active_rentals": Rental.objects.filter(status=RentalStatus.ACTIVE).count(),
        "billing": {
            "pending": pending["n"],
            "oldest_pending_seconds": (
                max(0, round((now - pending["oldest"]).total_seconds())) if pending["oldest"] else None
            ),
            "average_lag_seconds": (
                round(sum(figures["lag_seconds"] for figures in hours.values()) / billed, 1)
                if billed
                else None
            ),
        },
        "open_problem_reports": ProblemReport.objects.filter(status=ProblemStatus.OPEN).count(),
    }, newly_settled
