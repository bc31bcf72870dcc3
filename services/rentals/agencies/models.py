from django.db import models


class RevokedAgencyClient(models.Model):
    """An agency client auth revoked (its `agency_client.revoked` event): its tokens are refused here even
    before they expire. Rows are never removed (auth never re-activates a client)."""

    client_id = models.UUIDField(primary_key=True)
    provider_id = models.UUIDField()
    revoked_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.client_id} (revoked {self.revoked_at:%Y-%m-%d %H:%M})"


class AgencyRateBucket(models.Model):
    """The MDS rate limit's state for one agency client (the token's `sub`), shared by every web process:
    GCRA's theoretical arrival time, advanced by one emission interval per admitted request
    (agencies/services.py)."""

    client_id = models.UUIDField(primary_key=True)
    tat = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.client_id} until {self.tat:%H:%M:%S}"
