import datetime as dt

from stats.models import SettledHour


def settled_hours_store(*, figures: dict[dt.datetime, dict]) -> int:
    """Store the figures of hours that became settled (as stats.selectors.stats_today aggregated them), so
    they are read, not aggregated, from now on. Concurrent requests store the same figures; the first wins.
    Returns how many hours were given."""
    if not figures:
        return 0
    SettledHour.objects.bulk_create(
        [SettledHour(hour=hour, **values) for hour, values in figures.items()], ignore_conflicts=True
    )
    return len(figures)
