"""Birthday greetings given: one row per member and year, so `lps jobs birthdays` greets (and
awards) each member once a year however often it runs."""
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from lps_core.db.meta import Base


class BirthdayGreeting(Base):
    __tablename__ = "birthday_greetings"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    greeted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    points: Mapped[int] = mapped_column(BigInteger, default=0)  # the bonus credited, 0 for none
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))  # the bonus's ledger entry
    messages: Mapped[int] = mapped_column(Integer, default=0)  # greetings queued (one per channel)
