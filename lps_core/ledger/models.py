"""Accounts and their append-only ledger; points are held in lots that expire."""
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from lps_core.db.meta import Base

POINTS = "points"  # a member's, in lots that expire
STORED_VALUE = "stored_value"  # a card's deposited money, in integer cents
STORED_VALUE_BONUS = "bonus_value"  # a card's bonus money from deposit promotions, in cents
USES = "uses"  # a count card's remaining uses of a service
CREDIT = "credit"  # what a card owes on its credit line, in cents: charges add, repayments take away
ACCOUNT_KINDS = (POINTS, STORED_VALUE, STORED_VALUE_BONUS, USES, CREDIT)


class Account(Base):
    """A balance of one kind. The balance column is a cache of the sum of its entries, kept in step
    by the ledger service in the same transaction; the CHECK makes an overdraft impossible."""

    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint("balance >= 0", name="balance_not_negative"),
        CheckConstraint("kind IN ('points', 'stored_value', 'bonus_value', 'uses', 'credit')", name="kind"),
        UniqueConstraint("member_id", "kind", name="uq_accounts_member_kind"),
        UniqueConstraint("card_id", "kind", name="uq_accounts_card_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    card_id: Mapped[int | None] = mapped_column(ForeignKey("cards.id"))
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class LedgerEntry(Base):
    """One change of one account. Never updated, never deleted: a correction is a new entry."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        # The website syncs entries by when they were written (lps_core.website.sync): they never change.
        Index("ix_ledger_entries_created_at_id", "created_at", "id"),
        # Only reversals reverse an entry, and many entries have no bill: indexing only those that
        # do spares every other entry written two index entries (migration 0051).
        Index("ix_ledger_entries_reverses_id", "reverses_id", postgresql_where=text("reverses_id IS NOT NULL"),
              sqlite_where=text("reverses_id IS NOT NULL")),
        Index("ix_ledger_entries_bill_id", "bill_id", postgresql_where=text("bill_id IS NOT NULL"),
              sqlite_where=text("bill_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    # The account's kind, copied at posting so that the reports select a kind's entries by this row
    # alone, without joining every entry to its account (migrations 0042 and 0046).
    account_kind: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(24))
    amount: Mapped[int] = mapped_column(BigInteger)
    balance_after: Mapped[int] = mapped_column(BigInteger)
    business_key: Mapped[str] = mapped_column(String(200), unique=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    outlet_id: Mapped[int | None] = mapped_column(ForeignKey("outlets.id"))
    bill_id: Mapped[int | None] = mapped_column(ForeignKey("bills.id"))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    breakdown: Mapped[list | None] = mapped_column(JSON(none_as_null=True))
    note: Mapped[str | None] = mapped_column(String(500))


class PointLot(Base):
    """Points earned together, with the date they expire; debits take the oldest-expiring first."""

    __tablename__ = "point_lots"
    __table_args__ = (
        CheckConstraint("remaining >= 0 AND remaining <= amount", name="remaining_in_range"),
        Index("ix_point_lots_account_expiry", "account_id", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LotAllocation(Base):
    """How much an entry took from (positive) or gave back to (negative) one lot."""

    __tablename__ = "lot_allocations"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("point_lots.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
