"""Signed webhooks: the endpoints staff configure, and one delivery row per event and endpoint.

Why a table of its own rather than outbox_messages (lps_core.messages.models): an outbox message is
a text to one member through one channel, rendered from a template in the member's language, with
consent, quiet hours and a per-member rate limit applied by the worker. A webhook delivery is none
of that: it is a JSON document about the programme (an approval, a posting, a tier, a redemption)
to a partner's or the website's URL, signed with that endpoint's secret, and its log needs the
receiver's HTTP status and answer. Putting it in the outbox would mean a fake member and channel,
columns that mean something else per row, and every outbox rule learning to skip webhooks. The
worker's machinery is shared instead: the same claim (FOR UPDATE SKIP LOCKED), lease, back-off and
dead letters, over this table (lps_core.webhooks.delivery).

A delivery row is written in the transaction of the business change that causes it
(lps_core.webhooks.services.publish), so a change that rolls back sends nothing. Its `body` is the
exact JSON text that is signed and sent, so every try and every re-send carries the same bytes."""
from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, DateTime, ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from lps_core.db.meta import Base
from lps_core.pii import EncryptedText

QUEUED, SENDING, DELIVERED, DEAD, CANCELLED = "queued", "sending", "delivered", "dead", "cancelled"
STATUSES = (QUEUED, SENDING, DELIVERED, DEAD, CANCELLED)


class WebhookEndpoint(Base):
    """A URL that receives the events it subscribes to, signed with its secret.

    The secret is kept encrypted with the keys of personal data (it must be read back to sign) and
    is shown once, when it is made; the screens never show it again. An endpoint is switched off
    rather than deleted, so its delivery log stays."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(EncryptedText)
    events: Mapped[list] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    secret_set_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookDelivery(Base):
    """One event to one endpoint, from queued to delivered (or dead), and its last answer.

    `next_attempt_at` is when a worker may take it: for a queued delivery its back-off, for one
    being sent the end of the worker's lease. `resent_from_id` names the delivery a manual re-send
    copied (same event id, so a receiver that remembers event ids ignores the copy)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'sending', 'delivered', 'dead', 'cancelled')", name="status"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint", "endpoint_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id"))
    event_id: Mapped[str] = mapped_column(String(40), index=True)
    event_type: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=QUEUED)
    tries: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_status_code: Mapped[int | None] = mapped_column()
    last_response: Mapped[str | None] = mapped_column(String(500))
    last_error: Mapped[str | None] = mapped_column(String(1000))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resent_from_id: Mapped[int | None] = mapped_column(ForeignKey("webhook_deliveries.id"))
    resent_by: Mapped[str | None] = mapped_column(String(120))
