"""The outbox of messages to members, their consent per channel, and the templates staff edit.

An OutboxMessage is written in the transaction of the business event that causes it
(lps_core.messages.outbox.enqueue) and delivered after commit by `lps worker`
(lps_core.messages.worker). The rows are also the delivery log (the member page lists them) and,
for the channel "inbox", the member's portal inbox (read_at)."""
from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, DateTime, ForeignKey, Index, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from lps_core.db.meta import Base
from lps_core.pii import EncryptedText

QUEUED, SENDING, SENT, DEAD, CANCELLED = "queued", "sending", "sent", "dead", "cancelled"
STATUSES = (QUEUED, SENDING, SENT, DEAD, CANCELLED)
SERVICE, MARKETING = "service", "marketing"
KINDS = (SERVICE, MARKETING)


class OutboxMessage(Base):
    """One message to one member through one channel, from queued to sent (or dead).

    `next_attempt_at` is when a worker may take it: for a queued message the earliest send (its
    back-off, the end of quiet hours), for a message being sent the end of the worker's lease, after
    which another worker takes it again (a worker killed mid-send). `dedupe_key` with the channel is
    unique: the same business event never queues twice. `secret` marks a message whose body must not
    outlive its delivery (a one-time code): its body is cleared once sent."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'sending', 'sent', 'dead', 'cancelled')", name="status"),
        CheckConstraint("kind IN ('service', 'marketing')", name="kind"),
        UniqueConstraint("dedupe_key", "channel", name="uq_outbox_messages_dedupe_key"),
        Index("ix_outbox_messages_due", "status", "next_attempt_at"),
        Index("ix_outbox_messages_member", "member_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    outlet_id: Mapped[int | None] = mapped_column(ForeignKey("outlets.id"))
    event: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16), default=SERVICE)
    language: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(EncryptedText)
    subject: Mapped[str] = mapped_column(String(500))
    body: Mapped[str | None] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    secret: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default=QUEUED)
    tries: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(String(1000))
    gateway_id: Mapped[str | None] = mapped_column(String(200))
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MessageConsent(Base):
    """A member's answer, per channel, to marketing messages (opt-in: no row is no consent).
    Service messages (a one-time code, an appeal's result) need none."""

    __tablename__ = "message_consents"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(64), primary_key=True)
    granted: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(32))  # staff, portal, sms, unsubscribe
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MessageTemplate(Base):
    """A template staff wrote for an event in a language, for one channel or for every channel
    ("*"). Without one, the shipped default applies (lps_core.messages.templates). Subject and body
    are plain text with named placeholders such as {member_name}; they are never template code."""

    __tablename__ = "message_templates"
    __table_args__ = (UniqueConstraint("event", "language", "channel", name="uq_message_templates_event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(64), default="*")
    subject: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str | None] = mapped_column(String(120))
