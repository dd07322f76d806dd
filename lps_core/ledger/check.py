"""The ledger invariant, checked with set-based SQL: every balance equals the sum of its entries,
a points balance also equals the points left in its lots, and no entry names another account kind
than its account's (account_kind, copied at posting for the reports; NULL is allowed)."""
from dataclasses import dataclass

from sqlalchemy import func, select

from lps_core.ledger.models import POINTS, Account, LedgerEntry, PointLot


@dataclass(frozen=True)
class Drift:
    account_id: int
    kind: str
    balance: int
    entries_sum: int
    lots_sum: int | None
    mislabelled: bool = False  # an entry's account_kind is not the account's kind

    def __str__(self):
        lots = "" if self.lots_sum is None else f", lots hold {self.lots_sum}"
        label = ", an entry names another account kind" if self.mislabelled else ""
        return (f"account {self.account_id} ({self.kind}): balance {self.balance}, "
                f"entries sum to {self.entries_sum}{lots}{label}")


def find_drift(db) -> list[Drift]:
    entries = (
        select(LedgerEntry.account_id, func.sum(LedgerEntry.amount).label("total"),
               func.min(LedgerEntry.account_kind).label("kind_low"), func.max(LedgerEntry.account_kind).label("kind_high"))
        .group_by(LedgerEntry.account_id).subquery()
    )
    lots = (
        select(PointLot.account_id, func.sum(PointLot.remaining).label("total"))
        .group_by(PointLot.account_id).subquery()
    )
    entries_sum = func.coalesce(entries.c.total, 0)
    lots_sum = func.coalesce(lots.c.total, 0)
    # min and max skip NULLs: both equal the account's kind, or the entries named none.
    mislabelled = (entries.c.kind_low != Account.kind) | (entries.c.kind_high != Account.kind)
    rows = db.execute(
        select(Account.id, Account.kind, Account.balance, entries_sum.label("entries_sum"),
               lots_sum.label("lots_sum"), mislabelled.label("mislabelled"))
        .outerjoin(entries, entries.c.account_id == Account.id)
        .outerjoin(lots, lots.c.account_id == Account.id)
        .where((Account.balance != entries_sum) | ((Account.kind == POINTS) & (Account.balance != lots_sum))
               | mislabelled)
        .order_by(Account.id)
    ).all()
    return [
        Drift(row.id, row.kind, row.balance, int(row.entries_sum), int(row.lots_sum) if row.kind == POINTS else None,
              bool(row.mislabelled))
        for row in rows
    ]


def count_accounts(db) -> int:
    return db.scalar(select(func.count()).select_from(Account))
