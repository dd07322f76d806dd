"""Point transfers to and from exchange partners: one row per (partner, direction, reference),
the partner's reference being the idempotency key of the transfer."""
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

import lps_core.cards.models  # noqa: F401  (the cards and members tables, which the transfer refers to)
import lps_core.ledger.models  # noqa: F401  (the ledger entries the transfer posted)
import lps_core.outlets.models  # noqa: F401  (the outlets table, where the transfer was requested)
from lps_core.contract.exchange import IN, OUT
from lps_core.db.meta import Base

DIRECTIONS = (IN, OUT)

PENDING = "pending"  # asked for; the partner has not (yet) confirmed: an OUT transfer holds its points
DONE = "done"  # the partner confirmed and the points are posted
FAILED = "failed"  # the partner refused for good; nothing is held (an OUT debit has been reversed)
UNKNOWN = "unknown"  # the partner may or may not have acted: retried or reconciled, never guessed
REVERSED = "reversed"  # undone at the partner and in the ledger
STATUSES = (PENDING, DONE, FAILED, UNKNOWN, REVERSED)
OPEN_STATUSES = (PENDING, UNKNOWN)  # a retry or reconciliation still has to finish these


class PointTransfer(Base):
    """One transfer of points between a member's LPS account and an exchange partner.

    `entry_id` is the ledger entry that moved the LPS points (the debit of an OUT transfer, posted
    when it is requested; the credit of an IN transfer, posted once the partner confirms), and
    `reversal_entry_id` the entry that gave them back or took them back."""

    __tablename__ = "point_transfers"
    __table_args__ = (
        UniqueConstraint("partner", "direction", "reference"),
        CheckConstraint("direction IN ('in', 'out')", name="direction"),
        CheckConstraint("status IN ('pending', 'done', 'failed', 'unknown', 'reversed')", name="status"),
        CheckConstraint("lps_points > 0 AND partner_points > 0", name="points_positive"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_point_transfers_member_requested", "member_id", "requested_at"),
        Index("ix_point_transfers_partner_status", "partner", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partner: Mapped[str] = mapped_column(String(64))  # the exchange component's name
    direction: Mapped[str] = mapped_column(String(3))
    reference: Mapped[str] = mapped_column(String(64))
    partner_member_no: Mapped[str] = mapped_column(String(64))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"))
    lps_points: Mapped[int] = mapped_column(BigInteger)
    partner_points: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(8))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    partner_reference: Mapped[str | None] = mapped_column(String(64))  # the partner's own id, from its receipt
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    reversal_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    fingerprint: Mapped[str] = mapped_column(String(64))


# -- reconciliation ------------------------------------------------------------------------------------

MISSING_AT_PARTNER = "missing_at_partner"  # LPS counts the transfer; the partner's statement has no line
MISSING_AT_LPS = "missing_at_lps"  # the statement has a line LPS counts no transfer for
AMOUNT_DIFFERS = "amount_differs"  # both have it, with other partner points
OPEN_AT_LPS = "open_at_lps"  # the statement shows it booked; LPS still holds it open
PROBLEMS = (MISSING_AT_PARTNER, MISSING_AT_LPS, AMOUNT_DIFFERS, OPEN_AT_LPS)

MISMATCH_OPEN = "open"  # found, waiting for staff
MISMATCH_RESOLVED = "resolved"  # staff resolved it (see `resolution`)
MISMATCH_CLEARED = "cleared"  # a later reconciliation no longer found it (a retry finished the transfer)
MISMATCH_STATUSES = (MISMATCH_OPEN, MISMATCH_RESOLVED, MISMATCH_CLEARED)

ADJUSTED = "adjusted"  # a linked adjustment of the member's points was posted
SETTLED = "settled"  # the open transfer was completed as the partner's statement shows it
CANCELLED = "cancelled"  # the open transfer the partner never booked was failed, its held points given back
ACCEPTED = "accepted"  # nothing to post in LPS (the partner corrects its side); the reason says why
RESOLUTIONS = (ADJUSTED, SETTLED, CANCELLED, ACCEPTED)


class ExchangeMismatch(Base):
    """A difference between a partner's statement and LPS's transfers, as reconciliation found it,
    kept until staff resolve it. One row per (partner, direction, reference, problem): reconciling
    the period again finds the same row and updates what it saw.

    `entry_id` is the ledger entry the resolution posted (an adjustment, the completion of an in
    transfer, or the release of an out transfer's held points); `transfer_id` the transfer it is
    about, when LPS has one."""

    __tablename__ = "exchange_mismatches"
    __table_args__ = (
        UniqueConstraint("partner", "direction", "reference", "problem"),
        CheckConstraint("direction IN ('in', 'out')", name="direction"),
        CheckConstraint("problem IN ('missing_at_partner', 'missing_at_lps', 'amount_differs', 'open_at_lps')",
                        name="problem"),
        CheckConstraint("status IN ('open', 'resolved', 'cleared')", name="status"),
        CheckConstraint("resolution IS NULL OR resolution IN ('adjusted', 'settled', 'cancelled', 'accepted')",
                        name="resolution"),
        Index("ix_exchange_mismatches_partner_period", "partner", "period_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partner: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(3))
    reference: Mapped[str] = mapped_column(String(64))
    problem: Mapped[str] = mapped_column(String(20))
    transfer_id: Mapped[int | None] = mapped_column(ForeignKey("point_transfers.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    lps_partner_points: Mapped[int | None] = mapped_column(BigInteger)  # what LPS recorded
    statement_partner_points: Mapped[int | None] = mapped_column(BigInteger)  # what the statement says
    lps_points: Mapped[int | None] = mapped_column(BigInteger)  # LPS points of LPS's transfer
    partner_member_no: Mapped[str | None] = mapped_column(String(64))
    period_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # of the reconciliation that found it
    period_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    found_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(8))
    resolution: Mapped[str | None] = mapped_column(String(16))
    adjustment_points: Mapped[int | None] = mapped_column(BigInteger)  # signed: + credited, - debited
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    reason: Mapped[str | None] = mapped_column(String(500))
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
