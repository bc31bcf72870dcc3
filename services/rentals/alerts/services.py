import datetime as dt
import uuid
from typing import Any

from core.exceptions import NotFound, ValidationFailed
from django.db import transaction
from fleet.models import Station

from alerts.models import ServiceAlert

FIELDS = ("alert_type", "starts_at", "ends_at", "station_ids", "summary", "description", "url")


def _check(alert: ServiceAlert) -> None:
    if alert.ends_at is not None and alert.ends_at <= alert.starts_at:
        raise ValidationFailed(
            "The alert ends before it starts.", errors={"ends_at": ["Must be after starts_at."]}
        )
    if alert.station_ids:
        wanted = {uuid.UUID(str(station_id)) for station_id in alert.station_ids}
        known = set(Station.objects.filter(id__in=wanted, is_active=True).values_list("id", flat=True))
        unknown = sorted(str(station_id) for station_id in wanted - known)
        if unknown:
            raise ValidationFailed(
                "Unknown station.",
                errors={"station_ids": [f"Unknown or retired station {s}." for s in unknown]},
            )


@transaction.atomic
def alert_create(
    *,
    alert_type: str,
    summary: list[dict],
    starts_at: dt.datetime | None = None,
    ends_at: dt.datetime | None = None,
    station_ids: list[uuid.UUID] | None = None,
    description: list[dict] | None = None,
    url: list[dict] | None = None,
) -> ServiceAlert:
    alert = ServiceAlert(
        alert_type=alert_type,
        summary=summary,
        starts_at=starts_at or dt.datetime.now(dt.UTC),
        ends_at=ends_at,
        station_ids=list(station_ids or []),
        description=description or [],
        url=url or [],
    )
    _check(alert)
    alert.save()
    return alert


@transaction.atomic
def alert_update(*, alert_id: uuid.UUID, data: dict[str, Any]) -> ServiceAlert:
    alert = ServiceAlert.objects.select_for_update().filter(id=alert_id).first()
    if alert is None:
        raise NotFound("Alert not found.")
    for field in FIELDS:
        if field in data:
            value = data[field]
            if field in ("station_ids", "description", "url") and value is None:
                value = []
            setattr(alert, field, value)
    _check(alert)
    alert.save()
    return alert


@transaction.atomic
def alert_delete(*, alert_id: uuid.UUID) -> None:
    deleted, _ = ServiceAlert.objects.filter(id=alert_id).delete()
    if not deleted:
        raise NotFound("Alert not found.")
