from django.db import models
from django.utils import timezone


class SettledHour(models.Model):
    """The figures of one UTC hour that can no longer change: it ended at least `SETTLE_AFTER` ago and
    every ride that ended in it or earlier is billed. Stored once (stats.services.settled_hours_store), so
    a busy day is aggregated live only from its first unsettled hour on."""

    hour = models.DateTimeField(primary_key=True)
    rides_started = models.PositiveIntegerField()
    rides_finished = models.PositiveIntegerField()
    ride_seconds = models.BigIntegerField()
    billed = models.PositiveIntegerField()
    lag_seconds = models.FloatField(help_text="Sum over the billed rides of finish → invoice.")
    revenue = models.JSONField(help_text='Billed cost by currency: {"EUR": 1250}.')
    stored_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}:00"
