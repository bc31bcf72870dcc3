import uuid

from django.db import models


class RentalStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    FINISHED = "finished", "Finished"


class Rental(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user_id = models.UUIDField()
    # Captured from the access token at rent time; billing e-mails the invoice with them.
    user_email = models.CharField(max_length=254)
    user_name = models.CharField(max_length=200)
    bike = models.ForeignKey("fleet.Bike", on_delete=models.PROTECT, related_name="rentals")
    bike_number = models.CharField(max_length=32)
    status = models.CharField(max_length=10, choices=RentalStatus.choices, default=RentalStatus.ACTIVE)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    start_station = models.ForeignKey(
        "fleet.Station", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    end_station = models.ForeignKey(
        "fleet.Station", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    tariff = models.ForeignKey("fleet.Tariff", on_delete=models.PROTECT, related_name="rentals")
    # The tariff as it was when the rental started; later edits to the tariff never change a rental.
    tariff_snapshot = models.JSONField()
    # Set when the rental finishes: the rider reported a problem with the bike during it, so billing charges
    # no unlock fee (carried in rental.finished as `unlock_fee_waived`).
    unlock_fee_waived = models.BooleanField(default=False, db_default=False)
    cost_amount = models.BigIntegerField(null=True, blank=True)
    cost_currency = models.CharField(max_length=3, blank=True, default="")
    invoice_id = models.UUIDField(null=True, blank=True)
    invoice_s3_key = models.CharField(max_length=255, blank=True, default="")
    billed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user_id"], condition=models.Q(status="active"), name="rental_one_active_per_rider"
            ),
            models.UniqueConstraint(
                fields=["bike"], condition=models.Q(status="active"), name="rental_one_active_per_bike"
            ),
            models.CheckConstraint(
                condition=models.Q(status="active", ended_at__isnull=True)
                | models.Q(status="finished", ended_at__isnull=False),
                name="rental_status_matches_end",
            ),
        ]
        indexes = [
            # History: a rider's rentals newest first (keyset on started_at, id).
            models.Index(fields=["user_id", "-started_at", "-id"], name="rental_rider_history_idx"),
            # Reconciliation: finished rentals still waiting for an invoice.
            models.Index(
                fields=["ended_at"],
                name="rental_unbilled_idx",
                condition=models.Q(status="finished", invoice_id__isnull=True),
            ),
            # The operators' day (stats.selectors.stats_today): rides started, and rides ended with what the
            # hourly figures read (index-only scans over today's range). Only finished rentals have an end
            # time, so rental_ended_idx also gives MDS an hour's trips (mds.selectors).
            models.Index(fields=["started_at"], name="rental_started_idx"),
            models.Index(
                fields=["ended_at"],
                name="rental_ended_idx",
                include=["duration_seconds", "cost_amount", "cost_currency", "billed_at"],
            ),
        ]

    def __str__(self) -> str:
        return f"rental {self.id} ({self.status})"

    @property
    def billing_status(self) -> str:
        return "billed" if self.invoice_id else "pending"

    @property
    def cost(self) -> dict | None:
        if self.cost_amount is None:
            return None
        return {"amount": self.cost_amount, "currency": self.cost_currency}
