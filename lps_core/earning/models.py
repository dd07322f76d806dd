"""Bills posted by outlets for earning, and the refunds that reverse them."""
from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, DateTime, ForeignKey, Index, String, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from lps_core.db.meta import Base
from lps_core.db.stamps import changed_now


class Bill(Base):
    """A bill earned once per (outlet, bill no.): the unique constraint makes double posting impossible.
    Its ledger entries (the earning and any reversals) point back to it through bill_id."""

    __tablename__ = "bills"
    __table_args__ = (
        UniqueConstraint("outlet_id", "bill_no", name="uq_bills_outlet_bill_no"),
        Index("ix_bills_updated_at_id", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"))
    bill_no: Mapped[str] = mapped_column(String(64))
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    # jsonb on PostgreSQL (migration 0048): segments test the lines by containment without parsing them.
    items: Mapped[list | None] = mapped_column(
        JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql"))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    fingerprint: Mapped[str] = mapped_column(String(64))
    points: Mapped[int] = mapped_column(BigInteger)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("earning_rules.id"))
    qualifying_nights: Mapped[int] = mapped_column(default=0)
    qualifying_stays: Mapped[int] = mapped_column(default=0)
    # The API key that posted it (None at the desk): with the outlet, time and content, its audit record.
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # The change stamp the website syncs by (lps_core.website.sync): the database's now() when the
    # bill is posted, moved again by each refund of it.
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=changed_now(),
                                                 server_default=func.now(), onupdate=changed_now())


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
    # The API key that posted it (None at the desk): with the outlet, time and content, its audit record.
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class EarningRule(Base):
    """One version of an outlet's earning rules. Versions are never edited: a change is a new
    version with a later effective_from, and a bill is earned under the version in force at its
    occurred_at."""

    __tablename__ = "earning_rules"
    __table_args__ = (
        UniqueConstraint("outlet_id", "version", name="uq_earning_rules_outlet_version"),
        Index("ix_earning_rules_outlet_effective", "outlet_id", "effective_from"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"))
    version: Mapped[int]
    effective_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    formula: Mapped[str] = mapped_column(String(64))
    formula_params: Mapped[dict] = mapped_column(JSON, default=dict)
    # [{"from": "1000.00", "to": "2000.00", "multiplier": "1"}, ...]; `from` inclusive, `to` exclusive.
    bands: Mapped[list] = mapped_column(JSON, default=list)
    band_basis: Mapped[str] = mapped_column(String(16), default="bill")  # bill | period_spend
    band_period: Mapped[str | None] = mapped_column(String(16))  # month | year, for period_spend
    rounding: Mapped[str] = mapped_column(String(16), default="floor")  # floor | half_up | half_even
    max_points_per_bill: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Promotion(Base):
    """A bonus on top of the outlet's rules, within a time window and optional conditions.

    kind: multiplier (params.multiplier), bonus (params.points per bill), sku_bonus (params.points
    per unit of a listed SKU), first_stay (params.points on a member's first bill), enrolment
    (params.points at approval), referral (params.levels: points for the referrer, then their
    referrer, when a referred member completes a first qualifying bill).
    stacking: stack (always adds), best_of (only the best best_of promotion applies), exclusive
    (only the best of its exclusive_group applies).
    prize_coupon_type_id, prize_count: the coupons (of that type, that many) a member wins with the
    promotion on a bill (lps_core.coupons.prizes); both empty when it gives points only."""

    __tablename__ = "promotions"
    __table_args__ = (
        CheckConstraint("(prize_coupon_type_id IS NULL) = (prize_count IS NULL)", name="prize"),
        CheckConstraint("prize_count BETWEEN 1 AND 100", name="prize_count"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    outlets: Mapped[list | None] = mapped_column(JSON)
    categories: Mapped[list | None] = mapped_column(JSON)
    skus: Mapped[list | None] = mapped_column(JSON)
    tiers: Mapped[list | None] = mapped_column(JSON)
    card_types: Mapped[list | None] = mapped_column(JSON)
    weekdays: Mapped[list | None] = mapped_column(JSON)  # 1 = Monday ... 7 = Sunday, ISO
    stacking: Mapped[str] = mapped_column(String(16), default="stack")
    exclusive_group: Mapped[str | None] = mapped_column(String(32))
    priority: Mapped[int] = mapped_column(default=0)
    cap_per_bill: Mapped[int | None] = mapped_column(BigInteger)
    cap_per_member: Mapped[int | None] = mapped_column(BigInteger)
    cap_period: Mapped[str | None] = mapped_column(String(16))  # day | month | year | promotion
    prize_coupon_type_id: Mapped[int | None] = mapped_column(ForeignKey("coupon_types.id"))
    prize_count: Mapped[int | None]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PromotionAward(Base):
    """Points a promotion gave a member, for per-member caps and reports."""

    __tablename__ = "promotion_awards"
    __table_args__ = (Index("ix_promotion_awards_cap", "promotion_id", "member_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    promotion_id: Mapped[int] = mapped_column(ForeignKey("promotions.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    bill_id: Mapped[int | None] = mapped_column(ForeignKey("bills.id"))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    points: Mapped[int] = mapped_column(BigInteger)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
