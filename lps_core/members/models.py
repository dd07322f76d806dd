"""Members, their tiers, and how they enrolled."""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Numeric, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lps_core.db.meta import Base

MEMBER_STATUSES = ("pending", "active", "suspended", "closed")
ENROLMENT_CHANNELS = ("desk", "web")
GENDERS = ("female", "male", "other", "unspecified")


class Tier(Base):
    __tablename__ = "tiers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    rank: Mapped[int] = mapped_column(unique=True)
    multiplier: Mapped[Decimal] = mapped_column(Numeric(6, 3), default=Decimal("1"))


class Member(Base):
    __tablename__ = "members"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'active', 'suspended', 'closed')", name="status"),
        CheckConstraint("channel IN ('desk', 'web')", name="channel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    birthday: Mapped[date | None] = mapped_column(Date)
    gender: Mapped[str] = mapped_column(String(16), default="unspecified")
    channel: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    tier_id: Mapped[int | None] = mapped_column(ForeignKey("tiers.id"))
    enrolled_outlet_id: Mapped[int | None] = mapped_column(ForeignKey("outlets.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    tier: Mapped[Tier | None] = relationship()
