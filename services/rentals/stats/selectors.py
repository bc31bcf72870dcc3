"""The day in numbers for operators. Each figure is one aggregate over an index range (rentals started or
ended since midnight UTC, the partial indexes of active and unbilled rentals, open problem reports), so the
cost grows with today's rides, not with the history (BENCHMARKS.md, S8)."""

import datetime as dt

from django.db.models import Count, DurationField, ExpressionWrapper, F, Min, Sum
from django.db.models.functions import TruncHour
from django.utils import timezone
from problems.models import ProblemReport, ProblemStatus
from rentals.models import Rental, RentalStatus


def _day_bounds(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    start = now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + dt.timedelta(days=1)


def stats_today(*, now: dt.datetime | None = None) -> dict:
    """Rides started and finished, revenue and ride time per UTC hour of today (up to the current hour),
    the day's totals, billing lag and the live counts. Revenue is the billed cost of the rides that finished
    in that hour, per currency; a ride not billed yet counts in `billing.pending`."""
    now = now or timezone.now()
    start, end = _day_bounds(now)
    hours = {
        start + dt.timedelta(hours=h): {"rides_started": 0, "rides_finished": 0, "revenue": {}}
        for h in range(now.astimezone(dt.UTC).hour + 1)
    }

    started = (
        Rental.objects.filter(started_at__gte=start, started_at__lt=end)
        .annotate(hour=TruncHour("started_at", tzinfo=dt.UTC))
        .values("hour")
        .annotate(n=Count("*"))
        .order_by()
    )
    for row in started:
        hours.setdefault(row["hour"], {"rides_started": 0, "rides_finished": 0, "revenue": {}})
        hours[row["hour"]]["rides_started"] = row["n"]

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
    totals = {"rides_finished": 0, "ride_seconds": 0, "billed": 0, "lag": dt.timedelta(0)}
    revenue_total: dict[str, int] = {}
    for row in finished:
        slot = hours.setdefault(row["hour"], {"rides_started": 0, "rides_finished": 0, "revenue": {}})
        slot["rides_finished"] += row["n"]
        totals["rides_finished"] += row["n"]
        totals["ride_seconds"] += row["ride_seconds"] or 0
        totals["billed"] += row["billed"]
        totals["lag"] += row["lag"] or dt.timedelta(0)
        currency = row["cost_currency"]
        if currency and row["revenue"] is not None:
            slot["revenue"][currency] = slot["revenue"].get(currency, 0) + row["revenue"]
            revenue_total[currency] = revenue_total.get(currency, 0) + row["revenue"]

    pending = Rental.objects.filter(status=RentalStatus.FINISHED, invoice_id__isnull=True).aggregate(
        n=Count("*"), oldest=Min("ended_at")
    )

    def money(amounts: dict[str, int]) -> list[dict]:
        return [{"amount": amount, "currency": currency} for currency, amount in sorted(amounts.items())]

    return {
        "date": start.date(),
        "generated_at": now,
        "hours": [
            {
                "hour": hour,
                "rides_started": slot["rides_started"],
                "rides_finished": slot["rides_finished"],
                "revenue": money(slot["revenue"]),
            }
            for hour, slot in sorted(hours.items())
        ],
        "totals": {
            "rides_started": sum(slot["rides_started"] for slot in hours.values()),
            "rides_finished": totals["rides_finished"],
            "revenue": money(revenue_total),
            "average_duration_seconds": (
                round(totals["ride_seconds"] / totals["rides_finished"]) if totals["rides_finished"] else None
            ),
        },
        "active_rentals": Rental.objects.filter(status=RentalStatus.ACTIVE).count(),
        "billing": {
            "pending": pending["n"],
            "oldest_pending_seconds": (
                max(0, round((now - pending["oldest"]).total_seconds())) if pending["oldest"] else None
            ),
            "average_lag_seconds": (
                round(totals["lag"].total_seconds() / totals["billed"], 1) if totals["billed"] else None
            ),
        },
        "open_problem_reports": ProblemReport.objects.filter(status=ProblemStatus.OPEN).count(),
    }
