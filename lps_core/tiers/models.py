"""What tier evaluation needs: activity per member and month, tier history, evaluation runs."""
from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from lps_core.db.meta import Base


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


class TierChange(Base):
    """Every change of a member's tier, and why (qualified, evaluation, purchase, floor, staff)."""

    __tablename__ = "tier_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    old_tier_id: Mapped[int | None] = mapped_column(ForeignKey("tiers.id"))
    new_tier_id: Mapped[int | None] = mapped_column(ForeignKey("tiers.id"))
    reason: Mapped[str] = mapped_column(String(16))
    evaluation_id: Mapped[int | None] = mapped_column(ForeignKey("tier_evaluations.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class TierEvaluation(Base):
    """One run of `lps jobs tiers`; `run_key` (e.g. the evaluation date) makes it idempotent and
    `last_member_id` lets an interrupted run resume."""

    __tablename__ = "tier_evaluations"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_key: Mapped[str] = mapped_column(String(32), unique=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_member_id: Mapped[int] = mapped_column(BigInteger, default=0)
    members_changed: Mapped[int] = mapped_column(BigInteger, default=0)
