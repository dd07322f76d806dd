"""Vouchers: printed instruments of a face value, issued by an outlet (or for the whole programme)
and consumed once by a settlement's voucher tender."""
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

import lps_core.cashier.models  # noqa: F401  (the settlements table, which settlement_id refers to)
import lps_core.outlets.models  # noqa: F401  (the outlets table, which outlet_id refers to)
from lps_core.db.meta import Base

ISSUED, REDEEMED, VOID = "issued", "redeemed", "void"
STATUSES = (ISSUED, REDEEMED, VOID)


class Voucher(Base):
    """One voucher. `code` is what is printed on it and what the till types as the tender's
    reference. It is valid from `valid_from` (included) to `valid_to` (excluded). A voucher of an
    outlet is taken at that outlet only; one without an outlet at every outlet."""

    __tablename__ = "vouchers"
    __table_args__ = (
        CheckConstraint("status IN ('issued', 'redeemed', 'void')", name="status"),
        CheckConstraint("face_value_cents > 0", name="face_value_positive"),
        CheckConstraint("valid_to > valid_from", name="validity"),
        CheckConstraint("(status = 'redeemed') = (settlement_id IS NOT NULL AND redeemed_at IS NOT NULL)",
                        name="redeemed_by_a_settlement"),
        CheckConstraint("(status = 'void') = (voided_at IS NOT NULL)", name="voided_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    face_value_cents: Mapped[int] = mapped_column(BigInteger)
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_to: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    outlet_id: Mapped[int | None] = mapped_column(ForeignKey("outlets.id"))
    status: Mapped[str] = mapped_column(String(8))
    redeemed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    settlement_id: Mapped[int | None] = mapped_column(ForeignKey("settlements.id"), index=True)
    voided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    void_reason: Mapped[str | None] = mapped_column(String(200))
