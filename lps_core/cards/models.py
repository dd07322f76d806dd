"""Card types (the products staff configure), cards, the counters that number new cards, and the
periods of paid memberships."""
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Numeric,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lps_core.db.meta import Base
from lps_core.members.models import Member
from lps_core.outlets import models as _outlets  # noqa: F401  (cards.issued_outlet_id refers to outlets)

# 'unissued' is a pre-generated number waiting in the pool; the others follow the design card.
CARD_STATUSES = ("unissued", "pending", "active", "frozen", "lost", "replaced", "cancelled")


class CardType(Base):
    """A card product. One type may combine several features: a discount, stored value, a number
    of uses of a service, a credit line and a validity period.

    discount_overrides: [{"outlet": "SPA", "category": "treatment", "rate": "0.15"}, ...]; the most
    specific match wins (outlet and category, then category, then outlet, then discount_rate).
    deposit_bonuses: [{"min_deposit": "1000.00", "bonus": "100.00"}, ...]; the highest step reached applies.
    uses_outlets: the outlet codes where a use may be taken (None: every outlet).
    partner_property_id: a co-branded card type's partner (a property of kind 'partner'), which funds
    the type's discount and points multiplier (lps_core.cards.cobrand).
    serial_from, serial_to: the type's own range of serial numbers after its prefix; None: the
    prefix's whole range, shared with other types of the same prefix.
    membership_fee_cents: a paid membership's fee for membership_months months of validity
    (lps_core.cards.membership); None: the card is not sold for a fee. membership_reminder_days:
    how many days before the end `lps jobs memberships` reminds the member; None: no reminder."""

    __tablename__ = "card_types"
    __table_args__ = (
        CheckConstraint("serial_from IS NULL AND serial_to IS NULL OR serial_from >= 1 AND serial_to >= serial_from",
                        name="serial_range"),
        CheckConstraint("membership_fee_cents IS NULL OR membership_fee_cents > 0 AND membership_months >= 1",
                        name="membership"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(8))
    points_multiplier: Mapped[Decimal] = mapped_column(Numeric(6, 3), default=Decimal("1"))
    discount_rate: Mapped[Decimal] = mapped_column(Numeric(5, 4), default=Decimal("0"))
    discount_overrides: Mapped[list] = mapped_column(JSON, default=list)
    stored_value: Mapped[bool] = mapped_column(default=False)
    deposit_bonuses: Mapped[list] = mapped_column(JSON, default=list)
    initial_uses: Mapped[int | None] = mapped_column()
    uses_outlets: Mapped[list | None] = mapped_column(JSON)
    credit_limit_cents: Mapped[int | None] = mapped_column(BigInteger)
    credit_warning_ratio: Mapped[Decimal] = mapped_column(Numeric(4, 3), default=Decimal("0.8"))
    validity_days: Mapped[int | None] = mapped_column()
    valid_from: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    valid_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    anonymous: Mapped[bool] = mapped_column(default=False)
    pin_required: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    partner_property_id: Mapped[int | None] = mapped_column(ForeignKey("properties.id"))
    serial_from: Mapped[int | None] = mapped_column(BigInteger)
    serial_to: Mapped[int | None] = mapped_column(BigInteger)
    membership_fee_cents: Mapped[int | None] = mapped_column(BigInteger)
    membership_months: Mapped[int | None] = mapped_column()
    membership_reminder_days: Mapped[int | None] = mapped_column()


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
    issued_outlet_id: Mapped[int | None] = mapped_column(ForeignKey("outlets.id"))
    valid_from: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    valid_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Overrides the card type's limit for this card; None means the type's limit.
    credit_limit_cents: Mapped[int | None] = mapped_column(BigInteger)
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    pin_failures: Mapped[int] = mapped_column(default=0)
    pin_locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status_reason: Mapped[str | None] = mapped_column(String(200))
    status_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("cards.id"))
    # The RFID/NFC tag the card carries, as the tag reader's driver reads it (contract.TagRead).
    tag_id: Mapped[str | None] = mapped_column(String(32), unique=True)

    card_type: Mapped[CardType] = relationship()
    member: Mapped[Member | None] = relationship()


class CardNumberCounter(Base):
    """The next serial number per prefix, so generated card numbers never collide; a card type with
    its own range counts in a row of its own, keyed "<prefix>:<serial_from>"."""

    __tablename__ = "card_number_counters"

    prefix: Mapped[str] = mapped_column(String(32), primary_key=True)
    next_serial: Mapped[int] = mapped_column(BigInteger, default=1)


class MembershipPeriod(Base):
    """One paid period of a paid membership: the sale or a renewal, [starts_at, ends_at), with the
    settlement that took its fee. Cancelling refunds the period's unused days (refund_cents,
    through settlement_refund_id) and ends it at cancelled_at. reminded_at is set once
    `lps jobs memberships` has queued the reminder before the membership's end."""

    __tablename__ = "membership_periods"
    __table_args__ = (
        UniqueConstraint("outlet_id", "sale_no", name="uq_membership_periods_outlet_sale_no"),
        CheckConstraint("kind IN ('sale', 'renewal')", name="kind"),
        CheckConstraint("status IN ('paid', 'cancelled')", name="status"),
        CheckConstraint("ends_at > starts_at AND fee_cents > 0 AND refund_cents >= 0 AND refund_cents <= fee_cents",
                        name="amounts"),
        Index("ix_membership_periods_ends_at", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    card_type_id: Mapped[int] = mapped_column(ForeignKey("card_types.id"))
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"))
    sale_no: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="paid")
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    fee_cents: Mapped[int] = mapped_column(BigInteger)
    settlement_id: Mapped[int] = mapped_column(ForeignKey("settlements.id"))
    refund_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    settlement_refund_id: Mapped[int | None] = mapped_column(ForeignKey("settlement_refunds.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    fingerprint: Mapped[str] = mapped_column(String(64))
    operator: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
