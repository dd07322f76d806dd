"""Inbound SMS commands as received: one row per message the gateway delivered to the webhook.

The row is the replay guard: its `nonce` (the gateway's message id or nonce) is unique, so a message
delivered twice, or replayed by someone who captured it, is refused the second time. It is also the
log of what was asked and answered: the member matched (None for an unknown number), the command
and its outcome, and the outbox message of the reply. The phone number itself is not kept."""
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from lps_core.db.meta import Base


class SmsInbound(Base):
    __tablename__ = "sms_inbound"

    id: Mapped[int] = mapped_column(primary_key=True)
    nonce: Mapped[str] = mapped_column(String(128), unique=True)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # the gateway's timestamp
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    command: Mapped[str | None] = mapped_column(String(16))  # balance, redeem, help, stop; None: not understood
    outcome: Mapped[str] = mapped_column(String(32))  # answered, unknown_number, redeemed, refused...
    redemption_id: Mapped[int | None] = mapped_column(ForeignKey("redemptions.id"))
