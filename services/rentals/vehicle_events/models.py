"""The append-only log of what happened to each bike, in MDS 2.0 terms (micromobility mode).

One row per state change, written in the transaction of the change (`vehicle_events.services`); the MDS
provider endpoints (`mds`) read nothing else for events and trips' locations. A database trigger refuses
UPDATE and DELETE (migration 0001): history cannot be rebuilt afterwards."""

import uuid

from django.db import models
from django.utils import timezone


class VehicleState(models.TextChoices):
    """The MDS `vehicle_state` values this fleet can be in (models/data-types/vehicle-state.yaml)."""

    REMOVED = "removed", "Removed"
    AVAILABLE = "available", "Available"
    NON_OPERATIONAL = "non_operational", "Non-operational"
    RESERVED = "reserved", "Reserved"
    ON_TRIP = "on_trip", "On trip"
    MISSING = "missing", "Missing"


class VehicleEvent(models.Model):
    event_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # MDS device_id: the bike's own id, stable for its life (GBFS's vehicle_id rotates per trip instead).
    device_id = models.UUIDField()
    event_type = models.CharField(max_length=32)
    vehicle_state = models.CharField(max_length=20, choices=VehicleState.choices)
    timestamp = models.DateTimeField()
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    trip_id = models.UUIDField(null=True, blank=True)
    # MDS publication_time: when the row was written (equal to `timestamp` for events written live).
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # Hourly and recent event reads are ranges on the event time.
            models.Index(fields=["timestamp"], name="vehicle_event_time_idx"),
            # A device's latest event (vehicles/status).
            models.Index(fields=["device_id", "-timestamp"], name="vehicle_event_device_idx"),
            # A trip's start and end events (trips' locations).
            models.Index(
                fields=["trip_id"], name="vehicle_event_trip_idx", condition=models.Q(trip_id__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.device_id} {self.event_type} -> {self.vehicle_state}"
