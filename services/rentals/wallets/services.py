import uuid
from dataclasses import dataclass

from core.exceptions import ValidationFailed
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from wallets import queries
from wallets.models import LedgerEntry, LedgerKind, Wallet


@dataclass(frozen=True)
class LedgerResult:
    entry: LedgerEntry
    applied: bool  # False when (kind, reference) had been applied before


def wallet_get_or_create(*, user_id: uuid.UUID) -> Wallet:
    """Wallets are created lazily, at 0, in DEFAULT_CURRENCY."""
    wallet, _ = Wallet.objects.get_or_create(
        user_id=user_id, defaults={"currency": settings.DEFAULT_CURRENCY}
    )
    return wallet


def _wallet_lock(*, user_id: uuid.UUID) -> Wallet:
    """The wallet row, locked FOR UPDATE (created at 0 first when missing). Call inside a transaction."""
    with connection.cursor() as cursor:
        wallet = queries.wallet_locked(cursor=cursor, user_id=user_id)
        if wallet is None:
            wallet_get_or_create(user_id=user_id)
            wallet = queries.wallet_locked(cursor=cursor, user_id=user_id)
    return wallet


def _ledger_apply(
    *, user_id: uuid.UUID, kind: str, amount: int, currency: str, reason: str, reference: str
) -> LedgerResult:
    """Apply one ledger entry once per (kind, reference). The unique index is the guarantee: a repeated
    reference inserts nothing (``ON CONFLICT DO NOTHING``, no savepoint needed) and the stored entry is
    returned, so the common path (a new entry) takes no extra lookup. The wallet row lock serializes
    concurrent entries of one wallet. Call inside a transaction."""
    wallet = _wallet_lock(user_id=user_id)
    if currency != wallet.currency:
        existing = LedgerEntry.objects.filter(kind=kind, reference=reference).first()
        if existing is not None:  # a repetition of an entry applied before: not an error
            return LedgerResult(entry=existing, applied=False)
        raise ValidationFailed(
            "Currency does not match the wallet.",
            errors={"currency": [f"The wallet is kept in {wallet.currency}."]},
        )
    entry = LedgerEntry(
        wallet=wallet,
        kind=kind,
        amount=amount,
        currency=currency,
        balance_after=wallet.balance + amount,
        reason=reason,
        reference=reference,
        created_at=timezone.now(),
    )
    with connection.cursor() as cursor:
        if not queries.ledger_entry_insert(cursor=cursor, entry=entry):  # applied before
            return LedgerResult(entry=LedgerEntry.objects.get(kind=kind, reference=reference), applied=False)
        wallet.balance += amount
        wallet.updated_at = entry.created_at
        queries.wallet_balance_set(cursor=cursor, wallet=wallet)
    return LedgerResult(entry=entry, applied=True)


@transaction.atomic
def wallet_top_up(*, user_id: uuid.UUID, amount: int, currency: str, transaction_id: str) -> LedgerResult:
    if amount <= 0:
        raise ValidationFailed("Amount must be positive.", errors={"amount": ["Must be a positive integer."]})
    return _ledger_apply(
        user_id=user_id,
        kind=LedgerKind.TOP_UP,
        amount=amount,
        currency=currency,
        reason="Top-up via payment provider",
        reference=transaction_id,
    )


# No savepoint of its own (it runs once per invoice inside rental_apply_invoice, which has one): an error
# here is never caught on the way up, so the caller's savepoint or transaction undoes it.
@transaction.atomic(savepoint=False)
def wallet_charge_rental(
    *, user_id: uuid.UUID, rental_id: uuid.UUID, amount: int, currency: str, invoice_number: str = ""
) -> LedgerResult:
    reason = f"Rental charge (invoice {invoice_number})" if invoice_number else "Rental charge"
    return _ledger_apply(
        user_id=user_id,
        kind=LedgerKind.RENTAL_CHARGE,
        amount=-amount,
        currency=currency,
        reason=reason,
        reference=str(rental_id),
    )
