"""Points appeals (积分申诉): a member says a bill is missing from their points, or was posted with
the wrong amount. Staff approve it (the bill is posted through the normal earn path under its own
outlet and number, or a linked correction is credited) or reject it with a reason.

The receipt photo, when one is sent, is kept in `receipt` or, with lps.appeals.receipt_dir set, as
a file under that folder named by `receipt_file`."""
from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, DateTime, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

import lps_core.cards.models  # noqa: F401  (cards)
import lps_core.earning.models  # noqa: F401  (bills, which bill_id refers to)
import lps_core.ledger.models  # noqa: F401  (ledger_entries)
import lps_core.members.models  # noqa: F401  (members)
import lps_core.operators.models  # noqa: F401  (operators)
import lps_core.outlets.models  # noqa: F401  (outlets)
from lps_core.db.meta import Base

OPEN, APPROVED, REJECTED = "open", "approved", "rejected"
STATUSES = (OPEN, APPROVED, REJECTED)
BY_MEMBER, BY_STAFF, BY_API = "member", "staff", "api"
OPENERS = (BY_MEMBER, BY_STAFF, BY_API)
# How an approval settled the appeal: the appeal posted the bill; the till had posted it already and
# it earned what it should (linked); or the till had posted it with too low an amount and the
# missing points were credited as a correction linked to the bill.
POSTED, LINKED, CORRECTED = "posted", "linked", "corrected"
RESOLUTIONS = (POSTED, LINKED, CORRECTED)


class Appeal(Base):
    """One appeal about one bill: (outlet, bill no.) names it as the till does."""

    __tablename__ = "points_appeals"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'approved', 'rejected')", name="status"),
        CheckConstraint("opened_by IN ('member', 'staff', 'api')", name="opened_by"),
        CheckConstraint("resolution IS NULL OR resolution IN ('posted', 'linked', 'corrected')", name="resolution"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint("(status = 'open') = (resolved_at IS NULL)", name="resolved_at"),
        CheckConstraint("(status = 'approved') = (resolution IS NOT NULL)", name="approved_with_resolution"),
        Index("ix_points_appeals_status_due", "status", "due_at"),
        Index("ix_points_appeals_outlet_bill", "outlet_id", "bill_no"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    card_id: Mapped[int | None] = mapped_column(ForeignKey("cards.id"))
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"))
    bill_no: Mapped[str] = mapped_column(String(64))
    bill_date: Mapped[date] = mapped_column(Date)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(String(500))
    receipt_type: Mapped[str | None] = mapped_column(String(32))
    receipt: Mapped[bytes | None] = mapped_column(LargeBinary)
    receipt_file: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(8))
    opened_by: Mapped[str] = mapped_column(String(8))
    opened_by_operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    request_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by_operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    resolution: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(500))
    # The posting: the bill (posted by the appeal or found already posted by the till), its earn
    # entry, and the correction entry when the appeal credited missing points of a posted bill.
    bill_id: Mapped[int | None] = mapped_column(ForeignKey("bills.id"), index=True)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    correction_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    points: Mapped[int | None] = mapped_column(BigInteger)  # what the approval added to the balance
