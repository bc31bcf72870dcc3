import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone


class BikeStatus(models.TextChoices):
    AVAILABLE = "available", "Available"
    RESERVED = "reserved", "Reserved"
    RENTED = "rented", "Rented"
    MAINTENANCE = "maintenance", "Maintenance"
    RETIRED = "retired", "Retired"


class BikeCondition(models.TextChoices):
    """What the bike is fit for, beside where it is in a trip (`status`). Only `ok` bikes are rented,
    reserved, listed to riders and counted as available in GBFS."""

    OK = "ok", "OK"
    NEEDS_CHECK = "needs_check", "Needs check"
    BROKEN = "broken", "Broken"
    IN_REPAIR = "in_repair", "In repair"
    MISSING = "missing", "Missing"


class ConditionSource(models.TextChoices):
    OPERATOR = "operator", "Operator"
    PROBLEM_REPORTS = "problem_reports", "Problem reports"


class Station(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    lat = models.FloatField(validators=[MinValueValidator(-90), MaxValueValidator(90)])
    lon = models.FloatField(validators=[MinValueValidator(-180), MaxValueValidator(180)])
    capacity = models.PositiveIntegerField()
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["name"], name="station_name_uniq")]

    def __str__(self) -> str:
        return self.name


class Bike(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    number = models.CharField(max_length=32, unique=True)
    model = models.CharField(max_length=100)
    status = models.CharField(max_length=20, choices=BikeStatus.choices, default=BikeStatus.AVAILABLE)
    # A database default too: rows written by plain SQL (bench seeding, older tools) are `ok`.
    condition = models.CharField(
        max_length=20, choices=BikeCondition.choices, default=BikeCondition.OK, db_default=BikeCondition.OK
    )
    station = models.ForeignKey(
        Station, null=True, blank=True, on_delete=models.PROTECT, related_name="bikes"
    )
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    # The bike's most recent finished rental, kept by rental_finish in the same row update. GBFS derives
    # the rotating public vehicle id from it without looking at the rentals table (rentals depend on
    # fleet, not the other way round, hence a plain id).
    last_rental_id = models.UUIDField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            # Hot path: the default list (available bikes, by number) and per-station counts.
            models.Index(fields=["status", "number"], name="bike_status_number_idx"),
            models.Index(fields=["station", "status"], name="bike_station_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=BikeStatus.values), name="bike_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(condition__in=BikeCondition.values), name="bike_condition_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.number


class BikeConditionChange(models.Model):
    """Append-only history of a bike's condition: who or what changed it, from what, and why."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    bike = models.ForeignKey(Bike, on_delete=models.PROTECT, related_name="condition_changes")
    from_condition = models.CharField(max_length=20, choices=BikeCondition.choices)
    to_condition = models.CharField(max_length=20, choices=BikeCondition.choices)
    reason = models.CharField(max_length=500)
    source = models.CharField(max_length=20, choices=ConditionSource.choices)
    changed_by = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["bike", "-created_at"], name="bike_condition_history_idx")]

    def __str__(self) -> str:
        return f"{self.from_condition} -> {self.to_condition}"


class Tariff(models.Model):
    """Prices in integer minor units. The tariff in force is the active one with the latest
    `valid_from` not in the future (ties: newest created); see fleet.selectors.tariff_in_force."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100)
    unlock_fee = models.PositiveIntegerField()
    price_per_minute = models.PositiveIntegerField()
    daily_cap = models.PositiveIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    is_active = models.BooleanField(default=True)
    valid_from = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["is_active", "-valid_from", "-created_at"], name="tariff_in_force_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(currency__regex=r"^[A-Z]{3}$"), name="tariff_currency_iso"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    # What a rental keeps of the tariff it started under (`snapshot()`, and in SQL
    # `fleet.queries.TARIFF_SNAPSHOT_IN_FORCE`); the `rental.started` event and the invoice check read it.
    SNAPSHOT_FIELDS = ("id", "name", "unlock_fee", "price_per_minute", "daily_cap", "currency")

    def snapshot(self) -> dict:
        return {name: str(self.id) if name == "id" else getattr(self, name) for name in self.SNAPSHOT_FIELDS}
