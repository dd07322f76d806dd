"""Operators (staff accounts) with argon2 password hashes, their roles and outlet scope, their
signed-in sessions, and the failed sign-ins per client address that throttle password guessing."""
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, false, func
from sqlalchemy.orm import Mapped, mapped_column

from lps_core.db.meta import Base


class Operator(Base):
    __tablename__ = "operators"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    # Role names from roles.ROLES, separated by spaces; validated when written.
    roles: Mapped[str] = mapped_column(String(200), default="")
    # True: every outlet of the group (HQ). False: only the outlets and properties in operator_scopes.
    all_outlets: Mapped[bool] = mapped_column(default=False, server_default=false())
    must_change_password: Mapped[bool] = mapped_column(default=True)
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class OperatorScope(Base):
    """One outlet, or one property (all its outlets, present and future), an operator may work for."""

    __tablename__ = "operator_scopes"
    __table_args__ = (
        CheckConstraint("(outlet_id IS NULL) <> (property_id IS NULL)", name="one_target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id", ondelete="CASCADE"), index=True)
    outlet_id: Mapped[int | None] = mapped_column(ForeignKey("outlets.id"))
    property_id: Mapped[int | None] = mapped_column(ForeignKey("properties.id"))


class LoginFailure(Base):
    """A failed sign-in from a client address; recent ones are counted to throttle that address."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_address_at", "address", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class StaffSession(Base):
    """A signed-in staff session. The browser's cookie holds a random token; only its SHA-256 is
    stored, so the table cannot be used to sign in. Deleting the row ends the session for good."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id", ondelete="CASCADE"), index=True)
    address: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
