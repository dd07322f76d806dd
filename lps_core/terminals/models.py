"""Terminals, the operators whose cashier screens each one feeds, and the swipes they send.

A terminal's key is stored as the SHA-256 of its secret, like an API key's; `prefix` finds the row.
A swipe is kept only until a cashier screen takes it or it expires: it is a message in flight, not a
record (the look-up and the bill that follow are audited where they happen)."""
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lps_core.db.meta import Base


class Terminal(Base):
    __tablename__ = "terminals"

    id: Mapped[int] = mapped_column(primary_key=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str | None] = mapped_column(String(64))
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TerminalOperator(Base):
    """An operator whose cashier screen (at the terminal's outlet) receives the terminal's swipes."""

    __tablename__ = "terminal_operators"

    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.id"), primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"), primary_key=True, index=True)


class TerminalSwipe(Base):
    """One swipe as a terminal sent it. (terminal_id, swipe_id) is unique: the agent's retry of a
    swipe LPS already has is answered as a duplicate and never handed out twice. `card_no` is the
    card read, or the card the tag is registered on; None with `tag_id` is a tag on no card, which
    the screen reports. `taken_at` is set by the one screen that receives it."""

    __tablename__ = "terminal_swipes"
    __table_args__ = (
        UniqueConstraint("terminal_id", "swipe_id"),
        CheckConstraint("card_no IS NOT NULL OR tag_id IS NOT NULL", name="card_or_tag"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.id"))
    swipe_id: Mapped[str] = mapped_column(String(64))
    card_no: Mapped[str | None] = mapped_column(String(32))
    tag_id: Mapped[str | None] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    taken_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    taken_by: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
