import uuid

from django.conf import settings
from django.db import models


class RefreshFamily(models.Model):
    """One login session: every refresh token rotated from the same login belongs to it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="refresh_families"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=32, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["user"], name="tokens_family_live_idx", condition=models.Q(revoked_at__isnull=True)
            )
        ]

    def __str__(self) -> str:
        return f"family {self.id} of {self.user_id}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class RefreshToken(models.Model):
    """A refresh token; only its SHA-256 is stored. `rotated_at` set = already used (reuse = theft)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    family = models.ForeignKey(RefreshFamily, on_delete=models.CASCADE, related_name="tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    rotated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"refresh {self.id} (family {self.family_id})"
