"""Expiry runs (idempotent, resumable) and warnings to members whose points expire soon."""
from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from lps_core.db.meta import Base


class ExpiryRun(Base):
    __tablename__ = "expiry_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_key: Mapped[str] = mapped_column(String(32), unique=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_account_id: Mapped[int] = mapped_column(BigInteger, default=0)
    accounts: Mapped[int] = mapped_column(BigInteger, default=0)
    points: Mapped[int] = mapped_column(BigInteger, default=0)


class ExpiryWarning(Base):
    """One warning per account and expiry date: points that will expire within the warning window."""

    __tablename__ = "expiry_warnings"
    __table_args__ = (UniqueConstraint("account_id", "expires_on", name="uq_expiry_warnings_account_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    points: Mapped[int] = mapped_column(BigInteger)
    expires_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
