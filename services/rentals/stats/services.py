import datetime as dt

from django.utils import timezone

from stats import selectors
from stats.models import SettledHour


def settled_hours_store(*, now: dt.datetime | None = None) -> int:
    """Store the figures of today's settled hours that are not stored yet (one aggregate over their range);
    concurrent callers store the same figures, the first one wins. Returns how many hours were stored."""
    now = now or timezone.now()
    start = selectors.day_start(now=now)
    until = selectors.settled_until(now=now, oldest_pending=selectors.billing_pending()["oldest"])
    have = set(SettledHour.objects.filter(hour__gte=start, hour__lt=until).values_list("hour", flat=True))
    missing = []
    hour = start
    while hour < until:
        if hour not in have:
            missing.append(hour)
        hour += dt.timedelta(hours=1)
    if not missing:
        return 0
    figures = selectors.hour_figures(start=missing[0], end=until)
    SettledHour.objects.bulk_create(
        [SettledHour(hour=hour, **figures.get(hour, selectors.empty_figures())) for hour in missing],
        ignore_conflicts=True,
    )
    return len(missing)
