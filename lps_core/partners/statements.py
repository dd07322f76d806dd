"""A partner's statement for a period: what it and LPS owe each other, line by line, read from the
ledger, and closing a period, which stores the statement for good.

The lines, each one posting:
- points issued on the partner's behalf (the partner pays LPS the contract's issue cost per point):
  `earn` entries at its outlets less their reversals (`earn_reversal`), and points converted in from
  its programme (`exchange_in`: ledger entries of transfers whose partner is the property's
  exchange_component) less their reversals;
- points redeemed with the partner (LPS pays it the redeem value per point): the points-as-payment
  tender at its outlets (`payment`) less refunds (`payment_refund`), and points converted out to its
  programme (`exchange_out`) less their reversals;
- co-branded benefits (`benefit`, from partner_benefit_costs): the money of a discount plus the
  points of a points benefit at the issue cost, times the contract's cobrand_share;
- manual adjustments by staff, with their reason.

Each line is priced by the contract version in force on its own date (programme time zone) and
rounded to the cent; the totals are the sums of the lines, so they always add up.

Which period a posting belongs to: the one holding its date, while that period is open. Closed
periods follow one another without a gap, so "the next period" is the one that starts where the
last closed period ends. A posting dated in a closed period that no closed statement holds (it was
recorded after the close: a late refund, a back-dated bill) and every manual adjustment go on that
next period's statement as adjustment lines (`late`). A posting is settled once: the unique key on
(source, source_id) of the stored lines makes a second closing of it impossible."""
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import and_, exists, func, insert, or_, select
from sqlalchemy.orm import aliased

from lps_core.audit.services import record
from lps_core.errors import Conflict, Unprocessable
from lps_core.exchange.models import PointTransfer
from lps_core.exchange.services import EXCHANGE_IN, EXCHANGE_OUT
from lps_core.ledger.models import POINTS, Account, LedgerEntry
from lps_core.outlets.models import Outlet
from lps_core.partners.models import (
    FROM_PARTNER,
    TO_PARTNER,
    PartnerAdjustment,
    PartnerBenefitCost,
    PartnerStatement,
    PartnerStatementLine,
)
from lps_core.partners.services import contract_in_force, contracts_of, get_partner
from lps_core.timeutil import as_utc, utcnow

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
EARN, PAYMENT, REVERSAL = "earn", "payment", "reversal"
# Line kinds, and on which side of the contract each one falls.
ISSUED = ("earn", "earn_reversal", "exchange_in", "exchange_in_reversal")
REDEEMED = ("payment", "payment_refund", "exchange_out", "exchange_out_reversal")
BENEFIT, ADJUSTMENT = "benefit", "adjustment"
KINDS = ISSUED + REDEEMED + (BENEFIT, ADJUSTMENT)
REVERSAL_KIND = {EARN: "earn_reversal", PAYMENT: "payment_refund", EXCHANGE_IN: "exchange_in_reversal",
                 EXCHANGE_OUT: "exchange_out_reversal"}


@dataclass(frozen=True)
class Period:
    """Dates in the programme's time zone; `end` exclusive."""

    start: date
    end: date

    @classmethod
    def month(cls, text) -> "Period":
        """'2026-11' -> November 2026; 422 naming `period` otherwise."""
        try:
            year, month = (int(part) for part in text.split("-"))
            start = date(year, month, 1)
        except (ValueError, TypeError):
            raise Unprocessable(f"{text!r} is not a month", {"period": "must be a month such as 2026-11"}) from None
        return cls(start, date(year + month // 12, month % 12 + 1, 1))

    @classmethod
    def of(cls, start, last) -> "Period":
        """From `start` to `last`, both included; 422 naming `to` when it is before `start`."""
        if last < start:
            raise Unprocessable("the period ends before it starts", {"to": "must not be before from"})
        return cls(start, last + timedelta(days=1))

    @property
    def last(self) -> date:
        return self.end - timedelta(days=1)

    def label(self) -> str:
        if self.start.day == 1 and self.end == Period.month(self.start.strftime("%Y-%m")).end:
            return self.start.strftime("%Y-%m")
        return f"{self.start.isoformat()} – {self.last.isoformat()}"

    def bounds(self, tz) -> tuple[datetime, datetime]:
        """The period as UTC times: from the start's midnight to the end's, where the programme is."""
        return _midnight(self.start, tz), _midnight(self.end, tz)


@dataclass
class Line:
    source: str
    source_id: int
    kind: str
    late: bool
    occurred_at: datetime
    recorded_at: datetime
    outlet_code: str | None
    reference: str
    points: int
    contract_id: int | None
    price: Decimal
    direction: str
    amount: Decimal
    note: str | None = None
    position: int = 0

    def values(self) -> dict:
        return {name: getattr(self, name) for name in LINE_FIELDS}


LINE_FIELDS = ("position", "source", "source_id", "kind", "late", "occurred_at", "recorded_at", "outlet_code",
               "reference", "points", "contract_id", "price", "direction", "amount", "note")


@dataclass
class Statement:
    """A partner's statement: computed from the ledger for an open period, or as it was stored
    when its period was closed (`closed`)."""

    partner: object  # the partner's Property row
    period: Period
    lines: list[Line] = field(default_factory=list)
    closed: PartnerStatement | None = None

    def _sum(self, kinds, attribute="points"):
        return sum((getattr(line, attribute) for line in self.lines if line.kind in kinds),
                   ZERO if attribute == "amount" else 0)

    @property
    def points_issued(self) -> int:
        return self._sum(ISSUED)

    @property
    def points_redeemed(self) -> int:
        return self._sum(REDEEMED)

    @property
    def benefit_cost(self) -> Decimal:
        return self._sum((BENEFIT,), "amount")

    @property
    def due_from_partner(self) -> Decimal:
        return sum((line.amount for line in self.lines if line.direction == FROM_PARTNER), ZERO)

    @property
    def due_to_partner(self) -> Decimal:
        return sum((line.amount for line in self.lines if line.direction == TO_PARTNER), ZERO)

    @property
    def net(self) -> Decimal:
        """What the partner pays LPS (negative: what LPS pays the partner)."""
        return self.due_from_partner - self.due_to_partner

    @property
    def unpriced(self) -> list[Line]:
        """Lines dated before the partner's first contract version: they cannot be priced."""
        return [line for line in self.lines if line.contract_id is None and line.kind != ADJUSTMENT]


# -- reading a statement -------------------------------------------------------------------------------

def statement_for(db, tz, partner, period: Period) -> Statement:
    """The statement of `period`: the stored one when it is a closed period, else computed now.
    Any other period starting before the end of the last closed one is 409 naming `period`: what
    is dated there is settled, or goes on the next period's statement as an adjustment."""
    closed = _closed_statements(db, partner.id)
    for stored in closed:
        if (stored.period_start, stored.period_end) == (period.start, period.end):
            return stored_statement(db, partner, stored)
    anchor = closed[-1].period_end if closed else None
    if anchor is not None and period.start < anchor:
        raise Conflict(f"periods up to {(anchor - timedelta(days=1)).isoformat()} are closed: a statement starts on "
                       f"{anchor.isoformat()} or later, or is one of the closed periods",
                       {"period": f"must start on {anchor.isoformat()} or later"})
    return _compute(db, tz, partner, period, takes_late=anchor is not None and period.start == anchor,
                    anchor=anchor)


def next_period_start(db, property_id) -> date | None:
    """Where the next period to close starts: the end of the last closed one (None before the first)."""
    return db.scalar(select(func.max(PartnerStatement.period_end)).where(PartnerStatement.property_id == property_id))


def closed_statements(db, property_id) -> list[PartnerStatement]:
    return list(reversed(_closed_statements(db, property_id)))


def _closed_statements(db, property_id) -> list[PartnerStatement]:
    return list(db.scalars(select(PartnerStatement).where(PartnerStatement.property_id == property_id)
                           .order_by(PartnerStatement.period_start)))


def stored_statement(db, partner, stored: PartnerStatement) -> Statement:
    rows = db.scalars(select(PartnerStatementLine).where(PartnerStatementLine.statement_id == stored.id)
                      .order_by(PartnerStatementLine.position))
    lines = [Line(**{name: getattr(row, name) for name in LINE_FIELDS}) for row in rows]
    for line in lines:
        line.occurred_at, line.recorded_at = as_utc(line.occurred_at), as_utc(line.recorded_at)
        line.price, line.amount = Decimal(line.price), Decimal(line.amount)
    return Statement(partner, Period(stored.period_start, stored.period_end), lines, stored)


def _compute(db, tz, partner, period, *, takes_late, anchor) -> Statement:
    start, end = period.bounds(tz)
    contracts = contracts_of(db, partner.id)
    outlet_ids = list(db.scalars(select(Outlet.id).where(Outlet.property_id == partner.id)))
    codes = {}  # outlet id -> code, of the outlets the lines name (a benefit's may be any outlet)

    def line(source, source_id, kind, late, occurred_at, recorded_at, outlet_id, reference, points, note=None,
             benefit=None, direction=None, amount=None):
        occurred_at = as_utc(occurred_at)
        contract = contract_in_force(contracts, occurred_at.astimezone(tz).date())
        if kind == ADJUSTMENT:
            price = ZERO
        elif kind in ISSUED or kind == BENEFIT:
            price = contract.issue_cost_per_point if contract else ZERO
        else:
            price = contract.redeem_value_per_point if contract else ZERO
        if benefit is not None:  # a co-branded benefit: its money and points, at the partner's share
            share = contract.cobrand_share if contract else ZERO
            amount = ((benefit + points * Decimal(price)) * Decimal(share)).quantize(CENT, ROUND_HALF_UP)
        elif amount is None:
            amount = (points * Decimal(price)).quantize(CENT, ROUND_HALF_UP)
        if direction is None:
            direction = TO_PARTNER if kind in REDEEMED else FROM_PARTNER
        if outlet_id is not None and outlet_id not in codes:
            codes[outlet_id] = db.scalar(select(Outlet.code).where(Outlet.id == outlet_id))
        return Line(source, source_id, kind, late, occurred_at, as_utc(recorded_at), codes.get(outlet_id),
                    reference, points, contract.id if contract and kind != ADJUSTMENT else None, Decimal(price),
                    direction, amount, note)

    windows = [(start, end, False)]
    if takes_late:
        windows.append((None, _midnight(anchor, tz), True))
    lines = []
    for since, until, late in windows:
        for row in _ledger_rows(db, partner, outlet_ids, since, until):
            kind = REVERSAL_KIND[row.original_kind] if row.kind == REVERSAL else row.kind
            points = row.amount if kind in ISSUED else -row.amount
            lines.append(line("entry", row.id, kind, late, row.occurred_at, row.created_at, row.outlet_id,
                              row.business_key, points, row.note))
        for row in _benefit_rows(db, partner.id, since, until):
            lines.append(line("benefit", row.id, BENEFIT, late, row.occurred_at, row.occurred_at, row.outlet_id,
                              row.key, row.points, f"{row.kind} benefit of card {row.card_id}",
                              benefit=Decimal(row.amount)))
    for row in _adjustment_rows(db, partner.id, None if takes_late else start,
                                None if takes_late else end, anchor is not None and not takes_late):
        lines.append(line("adjustment", row.id, ADJUSTMENT, True, row.created_at, row.created_at, None,
                          f"adjustment:{row.id}", 0, f"{row.reason} ({row.created_by})"[:500],
                          direction=row.direction, amount=Decimal(row.amount)))
    lines.sort(key=lambda item: (item.late, item.occurred_at, item.source, item.source_id))
    for position, item in enumerate(lines, 1):
        item.position = position
    return Statement(partner, period, lines)


def _not_settled(source, column):
    return ~exists().where(PartnerStatementLine.source == source, PartnerStatementLine.source_id == column)


def _within(column, since, until):
    conditions = [column < until]
    if since is not None:
        conditions.append(column >= since)
    return and_(*conditions)


def _ledger_rows(db, partner, outlet_ids, since, until):
    original = aliased(LedgerEntry)
    transfer_entries = select(PointTransfer.entry_id).where(
        PointTransfer.partner == (partner.exchange_component or ""), PointTransfer.entry_id.is_not(None))
    at_outlets = LedgerEntry.outlet_id.in_(outlet_ids)
    return db.execute(
        select(LedgerEntry.id, LedgerEntry.kind, LedgerEntry.amount, LedgerEntry.occurred_at, LedgerEntry.created_at,
               LedgerEntry.business_key, LedgerEntry.outlet_id, LedgerEntry.note, original.kind.label("original_kind"))
        .join(Account, Account.id == LedgerEntry.account_id)
        .outerjoin(original, original.id == LedgerEntry.reverses_id)
        .where(Account.kind == POINTS, _within(LedgerEntry.occurred_at, since, until),
               _not_settled("entry", LedgerEntry.id),
               or_(and_(LedgerEntry.kind.in_((EARN, PAYMENT)), at_outlets),
                   and_(LedgerEntry.kind == REVERSAL, original.kind.in_((EARN, PAYMENT)), at_outlets),
                   and_(LedgerEntry.kind.in_((EXCHANGE_IN, EXCHANGE_OUT)), LedgerEntry.id.in_(transfer_entries)),
                   and_(LedgerEntry.kind == REVERSAL, original.kind.in_((EXCHANGE_IN, EXCHANGE_OUT)),
                        LedgerEntry.reverses_id.in_(transfer_entries))))
        .order_by(LedgerEntry.occurred_at, LedgerEntry.id)).all()


def _benefit_rows(db, property_id, since, until):
    return db.scalars(select(PartnerBenefitCost).where(
        PartnerBenefitCost.property_id == property_id, _within(PartnerBenefitCost.occurred_at, since, until),
        _not_settled("benefit", PartnerBenefitCost.id)).order_by(PartnerBenefitCost.occurred_at,
                                                                PartnerBenefitCost.id)).all()


def _adjustment_rows(db, property_id, since, until, none):
    """Manual adjustments no closed statement holds: all of them for the next period to close; by
    date for a partner with nothing closed yet; none for a period after the next one."""
    if none:
        return []
    query = select(PartnerAdjustment).where(PartnerAdjustment.property_id == property_id,
                                            _not_settled("adjustment", PartnerAdjustment.id))
    if until is not None:
        query = query.where(_within(PartnerAdjustment.created_at, since, until))
    return db.scalars(query.order_by(PartnerAdjustment.created_at, PartnerAdjustment.id)).all()


# -- closing a period ----------------------------------------------------------------------------------

def close_period(db, tz, code, period: Period, today: date, *, actor, address=None) -> tuple[Statement, bool]:
    """Store the statement of `period` for good: (the statement, whether it was already closed). A
    closed period answers its stored statement again. 409 naming `period` when the period has not
    ended, is not the next one (periods close in order, without gaps), would leave postings before
    it unsettled (the first close), or holds a line no contract prices."""
    partner = get_partner(db, code, lock=True)  # closes of one partner queue here
    statement = statement_for(db, tz, partner, period)
    if statement.closed is not None:
        return statement, True
    if period.end > today:
        raise Conflict(f"the period ends on {period.last.isoformat()}: it can be closed from "
                       f"{period.end.isoformat()}", {"period": "has not ended yet"})
    anchor = next_period_start(db, partner.id)
    if anchor is not None and period.start != anchor:
        raise Conflict(f"periods are closed in order: the next one starts on {anchor.isoformat()}",
                       {"period": f"must start on {anchor.isoformat()}"})
    if anchor is None:
        earlier = _compute(db, tz, partner, Period(date(1970, 1, 1), period.start), takes_late=False, anchor=None)
        if earlier.lines:
            first = earlier.lines[0].occurred_at.astimezone(tz).date()
            raise Conflict(f"{len(earlier.lines)} postings are dated before {period.start.isoformat()}: the first "
                           f"statement must start on or before {first.isoformat()}",
                           {"period": f"must start on or before {first.isoformat()}"})
    if statement.unpriced:
        day = statement.unpriced[0].occurred_at.astimezone(tz).date()
        raise Conflict(f"no contract version is in force on {day.isoformat()}: add one before closing",
                       {"period": f"no contract in force on {day.isoformat()}"})
    now = utcnow()
    header = PartnerStatement(
        property_id=partner.id, period_start=period.start, period_end=period.end,
        points_issued=statement.points_issued, points_redeemed=statement.points_redeemed,
        benefit_cost=statement.benefit_cost, due_from_partner=statement.due_from_partner,
        due_to_partner=statement.due_to_partner, net=statement.net, closed_at=now, closed_by=actor.name)
    db.add(header)
    db.flush()
    if statement.lines:
        db.execute(insert(PartnerStatementLine), [{**line.values(), "statement_id": header.id}
                                                  for line in statement.lines])
    statement.closed = header
    record(db, actor=actor, action="partner.statement_close", target=("property", partner.id), address=address,
           after={"period": period.label(), "lines": len(statement.lines), "net": str(statement.net)})
    return statement, False


def _midnight(day: date, tz) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(timezone.utc)
