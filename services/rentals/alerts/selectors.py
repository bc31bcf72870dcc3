import datetime as dt
import uuid

from core.exceptions import NotFound
from django.db.models import Q, QuerySet

from alerts.models import ServiceAlert


def alert_list() -> tuple[QuerySet[ServiceAlert], list[str]]:
    """Every alert, ended ones included (operators see the history), newest start first."""
    return ServiceAlert.objects.all(), ["-starts_at", "-id"]


def alert_get(*, alert_id: uuid.UUID) -> ServiceAlert:
    alert = ServiceAlert.objects.filter(id=alert_id).first()
    if alert is None:
        raise NotFound("Alert not found.")
    return alert


def alerts_current(*, now: dt.datetime) -> QuerySet[ServiceAlert]:
    """Alerts not over at `now` (current and announced ones), as GBFS publishes them."""
    return ServiceAlert.objects.filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now)).order_by(
        "starts_at", "id"
    )
