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


# Who owes whom on a statement line: the partner owes LPS (points issued on its behalf, its share
# of co-branded benefits), or LPS owes the partner (points redeemed with it).
FROM_PARTNER = "from_partner"
TO_PARTNER = "to_partner"
DIRECTIONS = (FROM_PARTNER, TO_PARTNER)
MONEY = Numeric(14, 2)


class PartnerStatement(Base):
    """A closed period of one partner: its header, stored when staff close the period, with the
    totals of its lines. Never changed afterwards; a late correction goes into the next period.

    Periods are dates in the programme's time zone, `period_end` exclusive. The closed periods of a
    partner follow one another without a gap: each starts where the last one ended."""

    __tablename__ = "partner_statements"
    __table_args__ = (
        CheckConstraint("period_end > period_start", name="period_not_empty"),
        Index("uq_partner_statements_property_start", "property_id", "period_start", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    property_id: Mapped[int] = mapped_column(ForeignKey("properties.id"))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    points_issued: Mapped[int] = mapped_column(BigInteger)
    points_redeemed: Mapped[int] = mapped_column(BigInteger)
    benefit_cost: Mapped[Decimal] = mapped_column(MONEY)
    due_from_partner: Mapped[Decimal] = mapped_column(MONEY)
    due_to_partner: Mapped[Decimal] = mapped_column(MONEY)
    net: Mapped[Decimal] = mapped_column(MONEY)  # due_from_partner - due_to_partner: > 0, the partner pays
    closed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str | None] = mapped_column(String(100))


class PartnerStatementLine(Base):
    """One line of a closed statement: the posting behind it (`source`, `source_id`: a ledger
    entry, a co-branded benefit cost or a manual adjustment), its points, the price of the contract
    in force on its date, and the amount due. A source is settled once: the unique key makes a
    posting on two closed statements impossible. `late` marks an adjustment: a posting dated
    before the period that no earlier statement held, or a manual adjustment."""

    __tablename__ = "partner_statement_lines"
    __table_args__ = (
        CheckConstraint("source IN ('entry', 'benefit', 'adjustment')", name="source"),
        CheckConstraint("direction IN ('from_partner', 'to_partner')", name="direction"),
        Index("uq_partner_statement_lines_source", "source", "source_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("partner_statements.id"), index=True)
    position: Mapped[int]
    source: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[int]
    kind: Mapped[str] = mapped_column(String(24))
    late: Mapped[bool] = mapped_column(default=False)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    outlet_code: Mapped[str | None] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(String(200))
    points: Mapped[int] = mapped_column(BigInteger)
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("partner_contracts.id"))
    price: Mapped[Decimal] = mapped_column(POINT_PRICE)
    direction: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    note: Mapped[str | None] = mapped_column(String(500))


class PartnerAdjustment(Base):
    """A manual correction of what a partner and LPS owe each other, made by staff with a reason.
    It appears as an adjustment line on the next statement to be closed."""

    __tablename__ = "partner_adjustments"
    __table_args__ = (
        CheckConstraint("direction IN ('from_partner', 'to_partner')", name="direction"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    property_id: Mapped[int] = mapped_column(ForeignKey("properties.id"), index=True)
    direction: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    reason: Mapped[str] = mapped_column(String(500))
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
