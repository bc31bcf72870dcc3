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


class FailureThrottle(models.Model):
    """Consecutive failures of one key (e.g. email + client address) and when the next attempt may come.

    Claimed with one UPSERT per attempt (core.ratelimit.throttle_claim), so concurrent attempts of the
    same key are serialised by the row lock: none can slip past a delay.
    """

    scope = models.CharField(max_length=32)
    key_hash = models.CharField(max_length=64)  # sha256 of the key: no raw personal data here
    failures = models.PositiveIntegerField(default=0)
    last_failure_at = models.DateTimeField()
    next_allowed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key_hash"], name="core_failure_throttle_key_unique")
        ]
        indexes = [models.Index(fields=["last_failure_at"], name="core_throttle_last_failure_idx")]

    def __str__(self) -> str:
        return f"{self.scope} failures={self.failures} next={self.next_allowed_at:%Y-%m-%dT%H:%M:%SZ}"
