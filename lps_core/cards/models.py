"""Card types, cards, and the counters that number new cards."""
from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Numeric, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lps_core.db.meta import Base
from lps_core.members.models import Member

# 'unissued' is a pre-generated number waiting in the pool; the others follow the design card.
CARD_STATUSES = ("unissued", "pending", "active", "frozen", "lost", "replaced", "cancelled")


class CardType(Base):
    __tablename__ = "card_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(8))
    points_multiplier: Mapped[Decimal] = mapped_column(Numeric(6, 3), default=Decimal("1"))


class Card(Base):
    __tablename__ = "cards"
    __table_args__ = (
        CheckConstraint(
            "status IN ('unissued', 'pending', 'active', 'frozen', 'lost', 'replaced', 'cancelled')",
            name="status",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    card_no: Mapped[str] = mapped_column(String(32), unique=True)
    card_type_id: Mapped[int] = mapped_column(ForeignKey("card_types.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="unissued", index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    issued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    card_type: Mapped[CardType] = relationship()
    member: Mapped[Member | None] = relationship()


class CardNumberCounter(Base):
    """The next serial number per prefix, so generated card numbers never collide."""

    __tablename__ = "card_number_counters"

    prefix: Mapped[str] = mapped_column(String(8), primary_key=True)
    next_serial: Mapped[int] = mapped_column(BigInteger, default=1)
