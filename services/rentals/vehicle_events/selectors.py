import datetime as dt
import uuid

from django.db.models import QuerySet

from vehicle_events.models import VehicleEvent


def vehicle_events_between(*, start: dt.datetime, end: dt.datetime) -> QuerySet[VehicleEvent]:
    """Events with start <= timestamp < end, oldest first (index vehicle_event_time_idx)."""
    return VehicleEvent.objects.filter(timestamp__gte=start, timestamp__lt=end).order_by(
        "timestamp", "event_id"
    )


def vehicle_events_of_device(*, device_id: uuid.UUID) -> QuerySet[VehicleEvent]:
    return VehicleEvent.objects.filter(device_id=device_id).order_by("-timestamp", "-recorded_at")


def vehicle_events_of_trips(*, trip_ids: list[uuid.UUID]) -> QuerySet[VehicleEvent]:
    return VehicleEvent.objects.filter(trip_id__in=trip_ids).order_by("timestamp")


def vehicle_last_events(*, device_ids: list[uuid.UUID] | None = None) -> list[VehicleEvent]:
    """Each device's latest event (DISTINCT ON over vehicle_event_device_idx)."""
    queryset = VehicleEvent.objects.all()
    if device_ids is not None:
        queryset = queryset.filter(device_id__in=device_ids)
    return list(queryset.order_by("device_id", "-timestamp", "-recorded_at").distinct("device_id"))
