"""What tier evaluation needs besides the activity counters (lps_core.members.models): tier history
and evaluation runs."""
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from lps_core.db.meta import Base
from lps_core.members.models import MemberActivity  # noqa: F401  (it moved there; kept importable from here)


class TierChange(Base):
    """Every change of a member's tier, and why (qualified, evaluation, purchase, floor, staff).

    An append-only history. The tier and evaluation ids carry no foreign key (migration 0043): the
    tiers job writes up to a row per member per run, and the code guarantees what the keys checked,
    since the ids come from members.tier_id or a tier row read in the same transaction, and from the
    run's own tier_evaluations row; tiers are retired, never deleted, and evaluations are kept."""

    __tablename__ = "tier_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    old_tier_id: Mapped[int | None]  # tiers.id
    new_tier_id: Mapped[int | None]  # tiers.id
    reason: Mapped[str] = mapped_column(String(16))
    evaluation_id: Mapped[int | None]  # tier_evaluations.id
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
