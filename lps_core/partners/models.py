"""A partner's contract terms, versioned by effective date, and the partner-funded benefits of
co-branded cards. A partner is a Property of kind 'partner' (a franchise store: kind 'franchise');
its standing lives on the properties row (status, joined_at, ended_at)."""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, Date, DateTime, ForeignKey, Index, Numeric, String, func
from sqlalchemy.orm import Mapped, mapped_column

import lps_core.cards.models  # noqa: F401  (the cards and members a benefit cost names)
import lps_core.ledger.models  # noqa: F401  (the ledger entry a points benefit posted)
import lps_core.outlets.models  # noqa: F401  (the properties and outlets tables)
from lps_core.db.meta import Base

# The price of one LPS point in money, to six decimal places: a contract prices points in
# fractions of a cent (for example 0.005 per point).
POINT_PRICE = Numeric(12, 6)


class PartnerContract(Base):
    """One version of a partner's terms, in force from `effective_from` (a date in the programme's
    time zone) until the next version's date. A version is never changed once written; new terms
    are a new version.

    - issue_cost_per_point: what the partner pays LPS for each LPS point issued on its behalf
      (earned at its outlets, or converted into LPS points from its programme);
    - redeem_value_per_point: what LPS pays the partner for each LPS point a member spends with it
      (points as payment at its outlets, or converted out to its programme);
    - cobrand_share: the share (0 to 1) of its co-branded cards' benefits that the partner funds."""

    __tablename__ = "partner_contracts"
    __table_args__ = (
        CheckConstraint("issue_cost_per_point >= 0 AND redeem_value_per_point >= 0", name="prices_not_negative"),
        CheckConstraint("cobrand_share >= 0 AND cobrand_share <= 1", name="cobrand_share_fraction"),
        Index("uq_partner_contracts_property_effective", "property_id", "effective_from", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    property_id: Mapped[int] = mapped_column(ForeignKey("properties.id"))
    effective_from: Mapped[date] = mapped_column(Date)
    issue_cost_per_point: Mapped[Decimal] = mapped_column(POINT_PRICE)
    redeem_value_per_point: Mapped[Decimal] = mapped_column(POINT_PRICE)
    cobrand_share: Mapped[Decimal] = mapped_column(Numeric(5, 4), default=Decimal("1"))
    note: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PartnerBenefitCost(Base):
    """The cost of one benefit a co-branded card gave, which its partner funds: a discount in
    money on a settlement, or extra points on a bill. Written in the posting's own transaction and
    keyed by its business key (for example `settlement:<id>:discount`, `bill:<outlet>:<no>:points`);
    a refund writes a negative row keyed `<key>:refund:<refund id>`. The partner's statement sums
    these rows at the contract's cobrand_share."""

    __tablename__ = "partner_benefit_costs"
    __table_args__ = (
        CheckConstraint("kind IN ('discount', 'points')", name="kind"),
        Index("ix_partner_benefit_costs_property_occurred", "property_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    property_id: Mapped[int] = mapped_column(ForeignKey("properties.id"))
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"))
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))  # money, for a discount
    points: Mapped[int] = mapped_column(BigInteger, default=0)  # for extra points
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
