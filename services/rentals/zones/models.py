import uuid

from django.db import models


class Zone(models.Model):
    """A geofencing zone: a GeoJSON MultiPolygon (WGS84, right-hand rule) and its rules, published in GBFS
    geofencing_zones.json. Only `parking_allowed` is enforced here (rental_finish); the other rules are
    for riders' apps and trip planners (the backend sees neither a trip's path nor its speed).
    The bounding box columns let a point query narrow the zones in SQL before any geometry is parsed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    geometry = models.JSONField()
    ride_allowed = models.BooleanField(default=True)
    ride_through_allowed = models.BooleanField(default=True)
    parking_allowed = models.BooleanField(default=True)
    maximum_speed_kph = models.PositiveSmallIntegerField(null=True, blank=True)
    min_lon = models.FloatField()
    min_lat = models.FloatField()
    max_lon = models.FloatField()
    max_lat = models.FloatField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["min_lat", "max_lat", "min_lon", "max_lon"],
                name="zone_no_parking_bbox_idx",
                condition=models.Q(parking_allowed=False),
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(min_lat__lte=models.F("max_lat"), min_lon__lte=models.F("max_lon")),
                name="zone_bbox_ordered",
            )
        ]

    def __str__(self) -> str:
        return self.name
