import uuid

from django.db import models
from django.utils import timezone


class AgencyClient(models.Model):
    """A city or other agency reading the MDS Provider API: its credential (client id + secret, the secret
    stored as a SHA-256 hash) buys short access tokens with role `agency` and its `provider_id`."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200, unique=True)
    provider_id = models.UUIDField()
    secret_hash = models.CharField(max_length=64)
    is_active = models.BooleanField(default=True)
    created_by = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name
