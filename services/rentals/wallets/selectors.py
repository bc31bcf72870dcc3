import uuid

from django.conf import settings
from django.db.models import QuerySet

from wallets.models import LedgerEntry, Wallet


def wallet_balance(*, user_id: uuid.UUID) -> dict:
    """A rider without a wallet yet has a zero balance in the default currency."""
    wallet = Wallet.objects.filter(user_id=user_id).only("balance", "currency").first()
    if wallet is None:
        return {"amount": 0, "currency": settings.DEFAULT_CURRENCY}
    return {"amount": wallet.balance, "currency": wallet.currency}


def wallet_in_debt(*, user_id: uuid.UUID) -> bool:
    return Wallet.objects.filter(user_id=user_id, balance__lt=0).exists()


def wallet_list(*, user_id: uuid.UUID | None = None) -> tuple[QuerySet[Wallet], list[str]]:
    queryset = Wallet.objects.all()
    if user_id is not None:
        queryset = queryset.filter(user_id=user_id)
    return queryset, ["user_id"]


def ledger_list(*, user_id: uuid.UUID) -> tuple[QuerySet[LedgerEntry], list[str]]:
    return LedgerEntry.objects.filter(wallet_id=user_id), ["-id"]
