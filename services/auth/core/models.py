from django.db import models


class RateLimitCounter(models.Model):
    """Fixed-window counters shared by every worker process (incremented with one UPSERT)."""

    scope = models.CharField(max_length=32)
    key_hash = models.CharField(max_length=64)  # sha256 of the IP / email: no raw personal data here
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "key_hash", "window_start"], name="core_ratelimit_window_unique"
            )
        ]
        indexes = [models.Index(fields=["window_start"], name="core_ratelimit_window_idx")]

    def __str__(self) -> str:
        return f"{self.scope} {self.window_start:%Y-%m-%dT%H:%M:%SZ} = {self.count}"
