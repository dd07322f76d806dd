"""What the members' portal keeps: members' passwords, one-time codes, signed-in sessions, and the
failed attempts that throttle guessing per account and per client address.

Nothing here can sign anyone in if the tables are read: passwords and codes are argon2 hashes and a
session is stored as the SHA-256 of the random token in the member's cookie."""
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from lps_core.db.meta import Base

# What a one-time code is for: signing in, resetting a forgotten password, claiming a card online.
CODE_PURPOSES = ("sign_in", "reset", "claim")
CODE_CHANNELS = ("sms", "email")


class MemberCredential(Base):
    """A member's portal password (argon2) and its lock-out after repeated failures."""

    __tablename__ = "member_credentials"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PortalCode(Base):
    """A one-time code sent to a member by SMS or e-mail: hashed, single-use (used_at), short-lived
    (expires_at), and dead after a few wrong tries (attempts)."""

    __tablename__ = "portal_codes"
    __table_args__ = (
        CheckConstraint("purpose IN ('sign_in', 'reset', 'claim')", name="purpose"),
        CheckConstraint("channel IN ('sms', 'email')", name="channel"),
        Index("ix_portal_codes_member_purpose", "member_id", "purpose", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(8))
    code_hash: Mapped[str] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PortalSession(Base):
    """A member signed in to the portal. The cookie holds a random token; only its SHA-256 is stored,
    so deleting the row (sign-out, password change, a card reported lost) ends the session for good."""

    __tablename__ = "portal_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    address: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class PortalFailure(Base):
    """A failed portal attempt (a wrong password or code, a code asked for), from a client address
    and, when one was named, against a member: recent ones are counted to throttle both."""

    __tablename__ = "portal_failures"
    __table_args__ = (
        Index("ix_portal_failures_address_at", "address", "at"),
        Index("ix_portal_failures_member_at", "member_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str | None] = mapped_column(String(64))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
