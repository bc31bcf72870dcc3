from django.db import models


class Rider(models.Model):
    """What rentals knows about a rider from auth's events: only whether the account is deactivated."""

    user_id = models.UUIDField(primary_key=True)
    is_deactivated = models.BooleanField(default=False)
    # Time of the auth event last applied; older events arriving late never undo a newer one.
    status_changed_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user_id} ({'deactivated' if self.is_deactivated else 'active'})"
