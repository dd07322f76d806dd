"""Settlements: a bill paid at an outlet with a member card, its tenders and its refunds."""
from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, DateTime, ForeignKey, Index, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from lps_core.db.meta import Base
from lps_core.db.stamps import changed_now


class Settlement(Base):
    """One bill settled once per (outlet, bill no.). gross - discount = charged = the tenders' sum;
    points are earned on earning_basis (what was paid with money, not with uses or bonus value)."""

    __tablename__ = "settlements"
    __table_args__ = (
        UniqueConstraint("outlet_id", "bill_no", name="uq_settlements_outlet_bill_no"),
        CheckConstraint("discount_cents >= 0 AND charged_cents = gross_cents - discount_cents", name="amounts"),
        Index("ix_settlements_updated_at_id", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"))
    bill_no: Mapped[str] = mapped_column(String(64))
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    gross_cents: Mapped[int] = mapped_column(BigInteger)
    discount_cents: Mapped[int] = mapped_column(BigInteger)
    charged_cents: Mapped[int] = mapped_column(BigInteger)
    earning_basis_cents: Mapped[int] = mapped_column(BigInteger)
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    bill_id: Mapped[int | None] = mapped_column(ForeignKey("bills.id"))
    # [{"sku", "category", "qty", "amount", "discount_rate", "discount", "charged"}, ...]
    items: Mapped[list] = mapped_column(JSON, default=list)
    # The card's and member's balances right after settling, for the receipt and its reprints.
    balances: Mapped[dict] = mapped_column(JSON, default=dict)
    fingerprint: Mapped[str] = mapped_column(String(64))
    operator: Mapped[str | None] = mapped_column(String(64))
    # The API key that posted it (None at the desk): with the outlet, time and content, its audit record.
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # The change stamp the website syncs by (lps_core.website.sync): the database's now() when the
    # bill is settled, moved again by each refund of it.
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=changed_now(),
                                                 server_default=func.now(), onupdate=changed_now())


class SettlementTender(Base):
    """One way a settlement was paid, by a tender plugin (`kind` is its name): what taking it
    returned (lps_core.contract.TakenTender), handed back to it on a refund. A stored-value tender
    records how much came from the deposit (principal) and how much from bonus value, so refunds
    return each to its own account; `details` is whatever else the tender kept."""

    __tablename__ = "settlement_tenders"
    __table_args__ = (UniqueConstraint("settlement_id", "position", name="uq_settlement_tenders_settlement_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    settlement_id: Mapped[int] = mapped_column(ForeignKey("settlements.id"))
    position: Mapped[int]
    kind: Mapped[str] = mapped_column(String(64))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    uses: Mapped[int | None] = mapped_column()
    principal_cents: Mapped[int | None] = mapped_column(BigInteger)
    bonus_cents: Mapped[int | None] = mapped_column(BigInteger)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    bonus_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    reference: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict | None] = mapped_column(JSON)


class SettlementRefund(Base):
    """A whole or partial refund of a settlement; `tenders` says what went back to each tender."""

    __tablename__ = "settlement_refunds"
    __table_args__ = (UniqueConstraint("settlement_id", "refund_no", name="uq_settlement_refunds_settlement_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    settlement_id: Mapped[int] = mapped_column(ForeignKey("settlements.id"), index=True)
    refund_no: Mapped[str] = mapped_column(String(64))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    tenders: Mapped[list] = mapped_column(JSON, default=list)
    reason: Mapped[str | None] = mapped_column(String(200))
    operator: Mapped[str | None] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64))
    # The API key that posted it (None at the desk): with the outlet, time and content, its audit record.
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
