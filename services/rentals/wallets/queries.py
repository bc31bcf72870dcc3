"""Hand-written SQL of the wallet ledger (STYLE.md, convention 9): it runs once per invoice on the billing
path, where building the ORM statements cost more than the statements (BENCHMARKS.md, issue 21's per-path
table). Column lists come from the models (`core.rows`)."""

import uuid

from core import rows

from wallets.models import LedgerEntry, Wallet

_WALLET_COLUMNS = rows.columns(Wallet)
WALLET_LOCK = f"SELECT {rows.column_list(Wallet)} FROM {rows.table(Wallet)} WHERE user_id = %s FOR UPDATE"  # noqa: S608
# A repeated (kind, reference) inserts nothing and returns no row: the unique index is the guarantee.
LEDGER_INSERT = rows.insert_statement(
    LedgerEntry, exclude=["id"], suffix="ON CONFLICT (kind, reference) DO NOTHING RETURNING id"
)
WALLET_BALANCE_SET = "UPDATE wallets_wallet SET balance = %s, updated_at = %s WHERE user_id = %s"


def wallet_locked(*, cursor, user_id: uuid.UUID) -> Wallet | None:
    cursor.execute(WALLET_LOCK, [user_id])
    row = cursor.fetchone()
    return None if row is None else rows.instance_from_row(Wallet, _WALLET_COLUMNS, row)


def ledger_entry_insert(*, cursor, entry: LedgerEntry) -> bool:
    """Insert `entry` unless its (kind, reference) exists; True (and the entry saved, with its id) if new."""
    return rows.insert_returning_id(cursor=cursor, statement=LEDGER_INSERT, instance=entry)


def wallet_balance_set(*, cursor, wallet: Wallet) -> None:
    cursor.execute(WALLET_BALANCE_SET, [wallet.balance, wallet.updated_at, wallet.user_id])
