"""The figures of the staff dashboard: today's postings, enrolments waiting for approval, points
appeals waiting for an answer and alerts (cards near their credit limit, cards locked by wrong
PINs), within an operator's outlets.

These are reports: each reads through `reports_session_of(db)`, the replica of
lps.reports.database_url when one is set (a few moments behind the database), so that the
dashboards of head office take nothing from the tills. `outlet_ids` is None for an operator who
sees every outlet."""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from lps_core.appeals.models import OPEN, Appeal
from lps_core.cards.models import Card, CardType
from lps_core.db import reports_session_of
from lps_core.ledger.models import CREDIT, POINTS, Account, LedgerEntry
from lps_core.members.models import Member

ALERT_LIMIT = 20


@dataclass(frozen=True)
class Postings:
    count: int
    points: int


def todays_postings(db, outlet_ids, since: datetime) -> Postings:
    """The points entries posted at the outlets since `since` (the start of the programme's day):
    how many, and their net points."""
    query = (select(func.count(LedgerEntry.id), func.coalesce(func.sum(LedgerEntry.amount), 0))
             .join(Account, Account.id == LedgerEntry.account_id)
             .where(Account.kind == POINTS, LedgerEntry.occurred_at >= since))
    if outlet_ids is not None:
        query = query.where(LedgerEntry.outlet_id.in_(sorted(outlet_ids)))
    count, points = reports_session_of(db).execute(query).one()
    return Postings(count, int(points))


def pending_enrolments(db, outlet_ids) -> int:
    """Enrolments waiting for approval; web enrolments (no outlet) only count for the whole group."""
    query = select(func.count(Member.id)).where(Member.status == "pending")
    if outlet_ids is not None:
        query = query.where(Member.enrolled_outlet_id.in_(sorted(outlet_ids)))
    return reports_session_of(db).scalar(query)


@dataclass(frozen=True)
class OpenAppeals:
    count: int
    overdue: int  # past their SLA due time


def open_appeals(db, outlet_ids, now: datetime) -> OpenAppeals:
    """Points appeals waiting for an answer about the outlets' bills, and how many are overdue."""
    query = (select(func.count(Appeal.id), func.count(Appeal.id).filter(Appeal.due_at < now))
             .where(Appeal.status == OPEN))
    if outlet_ids is not None:
        query = query.where(Appeal.outlet_id.in_(sorted(outlet_ids)))
    count, overdue = reports_session_of(db).execute(query).one()
    return OpenAppeals(int(count), int(overdue))


def _scoped(query, outlet_ids):
    return query if outlet_ids is None else query.where(Card.issued_outlet_id.in_(sorted(outlet_ids)))


def credit_alerts(db, outlet_ids) -> list:
    """Active or frozen cards whose credit used has reached their type's warning ratio of the limit."""
    limit = func.coalesce(Card.credit_limit_cents, CardType.credit_limit_cents)
    query = (select(Card.card_no, Card.member_id, Member.name.label("member_name"),
                    Account.balance.label("used"), limit.label("limit"))
             .join(CardType, CardType.id == Card.card_type_id)
             .join(Account, (Account.card_id == Card.id) & (Account.kind == CREDIT))
             .outerjoin(Member, Member.id == Card.member_id)
             .where(Card.status.in_(("active", "frozen")), limit > 0,
                    Account.balance >= limit * CardType.credit_warning_ratio)
             .order_by(Card.card_no).limit(ALERT_LIMIT))
    return reports_session_of(db).execute(_scoped(query, outlet_ids)).all()


def pin_locked_cards(db, outlet_ids, now: datetime) -> list:
    query = (select(Card.card_no, Card.member_id, Member.name.label("member_name"), Card.pin_locked_until)
             .outerjoin(Member, Member.id == Card.member_id)
             .where(Card.pin_locked_until > now).order_by(Card.pin_locked_until).limit(ALERT_LIMIT))
    return reports_session_of(db).execute(_scoped(query, outlet_ids)).all()
