import uuid

from django.db import models
from django.utils import timezone


class ProblemCategory(models.TextChoices):
    BRAKES = "brakes", "Brakes"
    TYRE = "tyre", "Tyre"
    CHAIN = "chain", "Chain"
    LIGHTS = "lights", "Lights"
    LOCK = "lock", "Lock"
    OTHER = "other", "Other"


# A report in one of these categories takes the bike out of service at once (`needs_check`).
UNSAFE_CATEGORIES = frozenset({ProblemCategory.BRAKES})


class ProblemStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"
    REJECTED = "rejected", "Rejected"


class ProblemReport(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    bike = models.ForeignKey("fleet.Bike", on_delete=models.PROTECT, related_name="problem_reports")
    user_id = models.UUIDField()
    # The reporter's active rental of this bike when they reported, if any: finishing that rental waives the
    # unlock fee (rentals.services.rental_finish reads it; a plain id, as fleet's last_rental_id).
    rental_id = models.UUIDField(null=True, blank=True)
    category = models.CharField(max_length=20, choices=ProblemCategory.choices)
    unsafe = models.BooleanField(default=False)
    text = models.CharField(max_length=2000, blank=True, default="")
    status = models.CharField(max_length=10, choices=ProblemStatus.choices, default=ProblemStatus.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.UUIDField(null=True, blank=True)
    resolution_note = models.CharField(max_length=2000, blank=True, default="")

    class Meta:
        constraints = [
            # One open report per rider and bike: a second one is a 409, and "N riders" counts people.
            models.UniqueConstraint(
                fields=["bike", "user_id"],
                condition=models.Q(status="open"),
                name="problem_one_open_per_rider",
            ),
            models.CheckConstraint(
                condition=models.Q(category__in=ProblemCategory.values), name="problem_category_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status="open", resolved_at__isnull=True)
                | models.Q(status__in=["resolved", "rejected"], resolved_at__isnull=False),
                name="problem_status_matches_resolution",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-created_at", "-id"], name="problem_status_created_idx"),
            models.Index(
                fields=["rental_id"], name="problem_rental_idx", condition=models.Q(rental_id__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category} ({self.status})"
