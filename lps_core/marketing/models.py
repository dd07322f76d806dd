"""Segments, campaigns and each campaign's members.

A segment is a saved filter (its definition is lps_core.marketing.schemas.SegmentDefinition as
JSON), never a saved list: it is evaluated when it is counted, previewed, exported or sent to.
A campaign's members are written when it is sent: one row per member of the segment at that time,
claimed before anything is given, so a run resumed or repeated gives nobody anything twice; the
control group's rows (control=True) are the record of who was held out."""
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from lps_core.db.meta import Base

DRAFT, SCHEDULED, SENDING, SENT, CANCELLED = "draft", "scheduled", "sending", "sent", "cancelled"
CAMPAIGN_STATUSES = (DRAFT, SCHEDULED, SENDING, SENT, CANCELLED)


class Segment(Base):
    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str | None] = mapped_column(String(500))
    definition: Mapped[dict] = mapped_column(JSON, default=dict)
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Campaign(Base):
    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'scheduled', 'sending', 'sent', 'cancelled')", name="status"),
        CheckConstraint("control_percent >= 0 AND control_percent <= 50", name="control_percent"),
        CheckConstraint("bonus_points >= 0", name="bonus_points"),
        Index("ix_campaigns_status_send_at", "status", "send_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id"))
    status: Mapped[str] = mapped_column(String(16), default=DRAFT)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    channels: Mapped[list | None] = mapped_column(JSON(none_as_null=True))  # None: every channel
    send_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    control_percent: Mapped[int] = mapped_column(Integer, default=0)
    seed: Mapped[str] = mapped_column(String(32))  # the control group's draw: reproducible
    bonus_points: Mapped[int] = mapped_column(BigInteger, default=0)
    coupon_type_code: Mapped[str | None] = mapped_column(String(32))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CampaignMember(Base):
    """A member a campaign reached or held out: claimed once (the primary key), then filled in."""

    __tablename__ = "campaign_members"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True, index=True)
    control: Mapped[bool] = mapped_column(Boolean)
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    messages: Mapped[int] = mapped_column(Integer, default=0)
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    entry_id: Mapped[int | None] = mapped_column(BigInteger)
    coupons: Mapped[int] = mapped_column(Integer, default=0)
