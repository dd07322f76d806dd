"""Coupon types, coupons and redemptions.

- coupon_types: what a coupon gives (an amount off, a percentage off, a free item of a SKU, or a
  points multiplier), its validity (fixed dates, or a number of days from issue), the minimum spend,
  the outlets where it is taken (none listed: every outlet) and how many uses one coupon has;
- coupons: one coupon of a type held by one member, with its own code. Issuing is idempotent on
  (type, member, source, source_ref), so a campaign or the birthday job run twice issues once;
- coupon_redemptions: each use of a coupon, by a settlement's coupon tender or (a multiplier) on a
  posted bill, with the points it added; `returned_at` when a refund gave the use back.
"""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, \
    Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

import lps_core.cashier.models  # noqa: F401  (settlements)
import lps_core.earning.models  # noqa: F401  (bills)
import lps_core.ledger.models  # noqa: F401  (ledger_entries)
import lps_core.members.models  # noqa: F401  (members)
import lps_core.outlets.models  # noqa: F401  (outlets)
from lps_core.db.meta import Base

AMOUNT, PERCENT, ITEM, MULTIPLIER = "amount", "percent", "item", "multiplier"
KINDS = (AMOUNT, PERCENT, ITEM, MULTIPLIER)
ISSUED, USED, VOID = "issued", "used", "void"
STATUSES = (ISSUED, USED, VOID)
SOURCES = ("staff", "api", "segment", "campaign", "birthday", "promotion")
# What a refund of the bill a coupon paid (or multiplied) does to the use it took.
RETURN, RETURN_UNEXPIRED, FORFEIT = "return", "return_unexpired", "forfeit"
ON_REFUND = (RETURN, RETURN_UNEXPIRED, FORFEIT)


class CouponType(Base):
    """What a coupon gives and where and when it is taken. `value_cents` is the amount off (AMOUNT)
    or the most a free item is worth (ITEM); `percent` the share off (PERCENT); `multiplier` the
    factor on the bill's points (MULTIPLIER). Validity is `valid_from`..`valid_to` (dates, both
    included) or `valid_days` from the day of issue. `on_refund` says whether a refund of the bill a
    coupon was used on gives the use back: always (RETURN), only while the coupon is still valid
    (RETURN_UNEXPIRED), or never (FORFEIT)."""

    __tablename__ = "coupon_types"
    __table_args__ = (
        CheckConstraint("kind IN ('amount', 'percent', 'item', 'multiplier')", name="kind"),
        CheckConstraint("(kind IN ('amount', 'item')) = (value_cents IS NOT NULL)", name="value_cents"),
        CheckConstraint("(kind = 'percent') = (percent IS NOT NULL)", name="percent_value"),
        CheckConstraint("(kind = 'item') = (sku IS NOT NULL)", name="item_sku"),
        CheckConstraint("(kind = 'multiplier') = (multiplier IS NOT NULL)", name="multiplier_value"),
        CheckConstraint("(valid_days IS NULL) <> (valid_to IS NULL)", name="validity"),
        CheckConstraint("uses >= 1", name="uses_positive"),
        CheckConstraint("min_spend_cents >= 0", name="min_spend_not_negative"),
        CheckConstraint("on_refund IN ('return', 'return_unexpired', 'forfeit')", name="on_refund"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    value_cents: Mapped[int | None] = mapped_column(BigInteger)
    percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    sku: Mapped[str | None] = mapped_column(String(64))
    multiplier: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    valid_days: Mapped[int | None] = mapped_column(Integer)
    min_spend_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    outlets: Mapped[list] = mapped_column(JSON, default=list)  # outlet codes; empty: every outlet
    uses: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    on_refund: Mapped[str] = mapped_column(String(16), default=RETURN, server_default=RETURN)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Coupon(Base):
    """One member's coupon: taken from `valid_from` (included) to `valid_to` (excluded) while
    `uses_left` > 0 and not void."""

    __tablename__ = "coupons"
    __table_args__ = (
        CheckConstraint("status IN ('issued', 'used', 'void')", name="status"),
        CheckConstraint("uses_left >= 0", name="uses_left_not_negative"),
        CheckConstraint("valid_to > valid_from", name="validity"),
        UniqueConstraint("coupon_type_id", "member_id", "source", "source_ref", name="uq_coupons_issue_key"),
        Index("ix_coupons_member_status", "member_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    coupon_type_id: Mapped[int] = mapped_column(ForeignKey("coupon_types.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    source: Mapped[str] = mapped_column(String(16))
    source_ref: Mapped[str] = mapped_column(String(100))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_to: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    uses_left: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(8))


class CouponRedemption(Base):
    """One use of a coupon: by a settlement's coupon tender (`settlement_id`, `position`, the
    cents it paid), or a multiplier's on a posted bill (`bill_id`, the points added by `entry_id`)."""

    __tablename__ = "coupon_redemptions"
    __table_args__ = (
        UniqueConstraint("settlement_id", "position", name="uq_coupon_redemptions_settlement_tender"),
        UniqueConstraint("coupon_id", "bill_id", name="uq_coupon_redemptions_coupon_bill"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    coupon_id: Mapped[int] = mapped_column(ForeignKey("coupons.id"), index=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"))
    settlement_id: Mapped[int | None] = mapped_column(ForeignKey("settlements.id"))
    position: Mapped[int | None] = mapped_column(Integer)
    bill_id: Mapped[int | None] = mapped_column(ForeignKey("bills.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    redeemed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    returned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
