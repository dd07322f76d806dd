"""What the website exchange keeps: the website's sign-ups by its own reference, and the handover
tokens that sign a member in to the portal once."""
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from lps_core.db.meta import Base


class WebsiteSignUp(Base):
    """A sign-up the website sent, under the website's own reference (its user id, its form's id):
    the same reference sent again answers the member it made, so a retry never enrols twice. The
    fingerprint is of the sign-up's details without the password."""

    __tablename__ = "website_signups"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PortalHandover(Base):
    """A one-time ticket the website asked for, to send a member it has signed in over to the
    portal. Only the SHA-256 of the token's random part is kept; the token also carries an HMAC of
    that part, the member and the expiry, so neither a copy of this table nor the key alone makes
    a token. `used_at` makes it single-use."""

    __tablename__ = "portal_handovers"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    next_path: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
