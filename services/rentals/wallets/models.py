from django.db import models


class LedgerKind(models.TextChoices):
    TOP_UP = "top_up", "Top-up"
    RENTAL_CHARGE = "rental_charge", "Rental charge"


class Wallet(models.Model):
    """Balance in integer minor units; changed only together with a ledger entry under a row lock."""

    user_id = models.UUIDField(primary_key=True)
    balance = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.balance} {self.currency}"


class LedgerEntry(models.Model):
    """Append-only. (kind, reference) is unique so one top-up or one rental charge is applied once."""

    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=20, choices=LedgerKind.choices)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    balance_after = models.BigIntegerField()
    reason = models.CharField(max_length=255)
    reference = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "reference"], name="ledger_kind_reference_uniq"),
        ]
        indexes = [models.Index(fields=["wallet", "-id"], name="ledger_wallet_newest_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.currency} ({self.reference})"
