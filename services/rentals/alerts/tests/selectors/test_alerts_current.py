import datetime as dt

import pytest

from alerts.selectors import alerts_current
from alerts.services import alert_create

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 12, 4, 12, tzinfo=dt.UTC)
SUMMARY = [{"text": "x", "language": "en"}]


def test_current_and_announced_alerts_but_not_ended_ones():
    ended = alert_create(
        alert_type="OTHER", summary=SUMMARY, starts_at=NOW - dt.timedelta(days=2), ends_at=NOW
    )
    running = alert_create(
        alert_type="SYSTEM_CLOSURE", summary=SUMMARY, starts_at=NOW - dt.timedelta(hours=1)
    )
    announced = alert_create(
        alert_type="OTHER",
        summary=SUMMARY,
        starts_at=NOW + dt.timedelta(days=1),
        ends_at=NOW + dt.timedelta(days=2),
    )
    assert [alert.id for alert in alerts_current(now=NOW)] == [running.id, announced.id]
    assert ended.id not in {alert.id for alert in alerts_current(now=NOW)}
