"""Bills posted by outlets for earning, and the refunds that reverse them."""
from datetime import datetime

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from lps_core.db.meta import Base


class Bill(Base):
    """A bill earned once per (outlet, bill no.): the unique constraint makes double posting impossible.
    Its ledger entries (the earning and any reversals) point back to it through bill_id."""

    __tablename__ = "bills"
    __table_args__ = (UniqueConstraint("outlet_id", "bill_no", name="uq_bills_outlet_bill_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"))
    bill_no: Mapped[str] = mapped_column(String(64))
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    items: Mapped[list | None] = mapped_column(JSON)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    fingerprint: Mapped[str] = mapped_column(String(64))
    points: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class BillRefund(Base):
    """A whole or partial refund of a bill, and the points it took back."""

    __tablename__ = "bill_refunds"
    __table_args__ = (UniqueConstraint("bill_id", "refund_no", name="uq_bill_refunds_bill_refund_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("bills.id"))
    refund_no: Mapped[str] = mapped_column(String(64))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    points: Mapped[int] = mapped_column(BigInteger)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
