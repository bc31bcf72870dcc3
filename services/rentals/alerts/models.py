import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models


class AlertType(models.TextChoices):
    """GBFS alert types (v3.0 publishes them in lower case)."""

    SYSTEM_CLOSURE = "SYSTEM_CLOSURE", "System closure"
    STATION_CLOSURE = "STATION_CLOSURE", "Station closure"
    STATION_MOVE = "STATION_MOVE", "Station move"
    OTHER = "OTHER", "Other"


class ServiceAlert(models.Model):
    """An operator's notice to riders, published in GBFS system_alerts.json until it ends.
    Texts are GBFS localized strings: `[{"text": …, "language": "en"}, …]`."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    alert_type = models.CharField(max_length=20, choices=AlertType.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    station_ids = ArrayField(models.UUIDField(), default=list, blank=True)
    summary = models.JSONField()
    description = models.JSONField(default=list, blank=True)
    url = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(alert_type__in=AlertType.values), name="alert_type_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(ends_at__isnull=True) | models.Q(ends_at__gt=models.F("starts_at")),
                name="alert_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["ends_at"], name="alert_ends_at_idx")]

    def __str__(self) -> str:
        return f"{self.alert_type} {self.starts_at:%Y-%m-%d}"
