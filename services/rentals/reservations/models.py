import uuid

from django.db import models


class ReservationStatus(models.TextChoices):
    OPEN = "open", "Open"
    CANCELLED = "cancelled", "Cancelled"
    CONSUMED = "consumed", "Consumed"
    EXPIRED = "expired", "Expired"


class Reservation(models.Model):
    """A rider's hold on a bike until `expires_at`. Open means "not yet ended": an open reservation whose
    `expires_at <= now` is already expired for every reader and is closed lazily or by the sweeper."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user_id = models.UUIDField()
    bike = models.ForeignKey("fleet.Bike", on_delete=models.PROTECT, related_name="reservations")
    status = models.CharField(
        max_length=10, choices=ReservationStatus.choices, default=ReservationStatus.OPEN
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    rental = models.ForeignKey(
        "rentals.Rental", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user_id"], condition=models.Q(status="open"), name="reservation_one_open_per_rider"
            ),
            models.UniqueConstraint(
                fields=["bike"], condition=models.Q(status="open"), name="reservation_one_open_per_bike"
            ),
            models.CheckConstraint(
                condition=models.Q(status="open", ended_at__isnull=True)
                | (~models.Q(status="open") & models.Q(ended_at__isnull=False)),
                name="reservation_status_matches_end",
            ),
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")),
                name="reservation_expires_after_start",
            ),
        ]
        indexes = [
            # The sweeper's scan: open reservations by expiry.
            models.Index(
                fields=["expires_at"], name="reservation_due_idx", condition=models.Q(status="open")
            ),
            models.Index(fields=["user_id", "-created_at"], name="reservation_rider_idx"),
        ]

    def __str__(self) -> str:
        return f"reservation {self.id} ({self.status})"
