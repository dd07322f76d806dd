"""The rewards catalogue and the redemptions made from it at the desk."""
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from lps_core.db.meta import Base
from lps_core.db.stamps import changed_now

CATEGORIES = ("item", "room_night", "fnb_voucher")
# Categories that issue a voucher, which the guest can use for voucher_valid_days after redeeming.
VOUCHER_CATEGORIES = ("room_night", "fnb_voucher")

COLLECTED = "collected"
AWAITING_PICKUP = "awaiting_pickup"
CANCELLED = "cancelled"
STATUSES = (COLLECTED, AWAITING_PICKUP, CANCELLED)


class Reward(Base):
    """Something members can buy with points. The points price is derived from cost_cents through
    the programme's ratio unless points_price overrides it; stock NULL means unlimited."""

    __tablename__ = "rewards"
    __table_args__ = (
        CheckConstraint("category IN ('item', 'room_night', 'fnb_voucher')", name="category"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("cost_cents >= 0", name="cost_not_negative"),
        CheckConstraint("points_price > 0", name="points_price_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(16))
    cost_cents: Mapped[int] = mapped_column(BigInteger)
    points_price: Mapped[int | None] = mapped_column(BigInteger)
    stock: Mapped[int | None] = mapped_column(Integer)
    available_from: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    available_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    allowed_tiers: Mapped[list | None] = mapped_column(JSON(none_as_null=True))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    voucher_valid_days: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Redemption(Base):
    """Points exchanged for a reward, once per (outlet, request_no): the desk's idempotency key.
    Its number shown to staff and guests is "R" and the zero-padded id."""

    __tablename__ = "redemptions"
    __table_args__ = (
        UniqueConstraint("outlet_id", "request_no", name="uq_redemptions_outlet_request_no"),
        CheckConstraint("status IN ('collected', 'awaiting_pickup', 'cancelled')", name="status"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        Index("ix_redemptions_updated_at_id", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"))
    request_no: Mapped[str] = mapped_column(String(64))
    reward_id: Mapped[int] = mapped_column(ForeignKey("rewards.id"), index=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    fingerprint: Mapped[str] = mapped_column(String(64))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    voucher_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    redeemed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    collected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    # The change stamp the website syncs by (lps_core.website.sync): set by the database on every
    # INSERT and UPDATE made through SQLAlchemy (pick-up, cancellation).
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=changed_now(),
                                                 server_default=func.now(), onupdate=changed_now())
