"""Members, their tiers, how they enrolled, and what the desk knows of them: family members,
preferences and the contact log."""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lps_core.db.meta import Base
from lps_core.db.stamps import changed_now
from lps_core.pii import BlindIndex, EncryptedText

# "rejected": an enrolment turned down in the approval queue (the reason is in status_reason).
MEMBER_STATUSES = ("pending", "active", "dormant", "suspended", "closed", "rejected")
ENROLMENT_CHANNELS = ("desk", "web")
GENDERS = ("female", "male", "other", "unspecified")


class Tier(Base):
    """A level of the programme with its benefits and what it takes to reach it.

    `qualification` maps counters to thresholds, for example {"nights": 25, "spend": "5000.00"}; the
    tier model plugin (lps.tiers.model) decides how they combine. `purchase_points`, when set, is
    what a member of a lower tier pays in points to move up to this one. `qualification_mode` says
    whether any one criterion is enough or all are needed. A retired tier keeps its row for the
    history that names it, but has no rank (lps_core.tiers.configuration)."""

    __tablename__ = "tiers"
    __table_args__ = (
        CheckConstraint("qualification_mode IN ('any', 'all')", name="qualification_mode"),
        CheckConstraint("(retired_at IS NULL) = (rank IS NOT NULL)", name="retired_without_rank"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    rank: Mapped[int | None] = mapped_column(unique=True)
    multiplier: Mapped[Decimal] = mapped_column(Numeric(6, 3), default=Decimal("1"))
    discount_rate: Mapped[Decimal] = mapped_column(Numeric(5, 4), default=Decimal("0"))
    entitlements: Mapped[list] = mapped_column(JSON, default=list)
    qualification: Mapped[dict] = mapped_column(JSON, default=dict)
    purchase_points: Mapped[int | None] = mapped_column(BigInteger)
    qualification_mode: Mapped[str] = mapped_column(String(3), default="any", server_default="any")
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Member(Base):
    __tablename__ = "members"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'active', 'dormant', 'suspended', 'closed', 'rejected')", name="status"),
        CheckConstraint("channel IN ('desk', 'web')", name="channel"),
        Index("ix_members_updated_at_id", "updated_at", "id"),
        # Most members have no referrer and many no ID number: indexing only those who do spares
        # every change of a member's row two index entries (migration 0047).
        Index("ix_members_id_number_index", "id_number_index", postgresql_where=text("id_number_index IS NOT NULL"),
              sqlite_where=text("id_number_index IS NOT NULL")),
        Index("ix_members_referred_by_id", "referred_by_id", postgresql_where=text("referred_by_id IS NOT NULL"),
              sqlite_where=text("referred_by_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # Personal data is encrypted at rest; the *_index columns are blind indexes for exact look-ups:
    # compare them with the plain value (Member.phone_index == "+8613800000000"). See lps_core/pii.py.
    phone: Mapped[str | None] = mapped_column(EncryptedText)
    phone_index: Mapped[str | None] = mapped_column(BlindIndex("phone"), index=True)
    id_number: Mapped[str | None] = mapped_column(EncryptedText)
    id_number_index: Mapped[str | None] = mapped_column(BlindIndex("id_number"))
    address: Mapped[str | None] = mapped_column(EncryptedText)
    email: Mapped[str | None] = mapped_column(String(254))
    birthday: Mapped[date | None] = mapped_column(Date)
    gender: Mapped[str] = mapped_column(String(16), default="unspecified")
    channel: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    status_reason: Mapped[str | None] = mapped_column(String(500))
    tier_id: Mapped[int | None] = mapped_column(ForeignKey("tiers.id"))
    enrolled_outlet_id: Mapped[int | None] = mapped_column(ForeignKey("outlets.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    referred_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    tier_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A floor set by staff (status match): evaluations never move the member below it until it expires.
    tier_floor_id: Mapped[int | None] = mapped_column(ForeignKey("tiers.id"))
    tier_floor_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_activity_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The language of the member's messages ("zh_CN", "en"); None: lps.messages.default_language.
    language: Mapped[str | None] = mapped_column(String(10))
    # The change stamp the website syncs by (lps_core.website.sync): every INSERT and UPDATE made
    # through SQLAlchemy sets it to the database's now(). Moving last_activity_at alone keeps it.
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=changed_now(),
                                                 server_default=func.now(), onupdate=changed_now())

    tier: Mapped[Tier | None] = relationship(foreign_keys=[tier_id])


CONTACT_CHANNELS = ("phone", "email", "sms", "wechat", "in_person", "letter")
PREFERENCE_KEYS = ("room", "pillow", "dietary")


class FamilyMember(Base):
    """Someone of the member's family the hotel should know (spouse, child...), optionally a member too."""

    __tablename__ = "member_family"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    relation: Mapped[str] = mapped_column(String(50))
    birthday: Mapped[date | None] = mapped_column(Date)
    relative_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class MemberPreference(Base):
    """A free-text preference per key (room, pillow, dietary): one value per member and key."""

    __tablename__ = "member_preferences"
    __table_args__ = (UniqueConstraint("member_id", "key", name="uq_member_preferences_member_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    key: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ContactLogEntry(Base):
    """One contact with the member (每次与会员联系的情况): how, what was said, by whom, when."""

    __tablename__ = "member_contacts"
    __table_args__ = (
        CheckConstraint("channel IN ('phone', 'email', 'sms', 'wechat', 'in_person', 'letter')", name="channel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    operator_name: Mapped[str] = mapped_column(String(100))
    contacted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MemberActivity(Base):
    """Counters per member and calendar month, kept in step with every earning and refund, so a
    qualification window (calendar year, rolling 12 months) is a sum of at most 12 rows."""

    __tablename__ = "member_activity"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)  # the first day of the month
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    spend_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    nights: Mapped[int] = mapped_column(default=0)
    stays: Mapped[int] = mapped_column(default=0)
    bills: Mapped[int] = mapped_column(default=0)
