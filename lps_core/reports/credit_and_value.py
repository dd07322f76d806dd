"""Stored value and credit: what cards hold besides points, from their ledger accounts
(lps_core.cards.funds).

Stored value is two accounts per card: `stored_value` (money the guest deposited) and
`bonus_value` (what deposit promotions added). In the period, by the outlet of each entry:
- deposits: `deposit` entries on stored_value; bonus granted: `deposit_bonus` entries on bonus_value;
- spend: `payment` entries on both (principal and bonus shown apart);
- refunds: reversals that gave value back to a card (a refunded settlement);
- other: whatever else moved the accounts (a reversed deposit, a balance moved to a replacement card);
and the float, the value cards held, at the period's start and end: opening + deposits + bonus -
spend + refunds + other = closing.

Credit is one account per card holding what the card owes: charged (`charge` entries), repaid
(`repayment` entries), refunded (reversals that took a charge back), other, and what is owed at
the start and the end. Overdue is what is owed at the end for charges older than
lps.reports.overdue_days: repayments pay the oldest charges first, so for each card it is what it
owed at the end less its charges of the last overdue_days days, when that is more than nothing."""
from datetime import timedelta

from sqlalchemy import and_, case, func, select

from lps_core.db import reports_session_of
from lps_core.exports import INTEGER, MONEY, Column, Table
from lps_core.ledger.models import (
    CREDIT,
    STORED_VALUE,
    STORED_VALUE_BONUS,
    Account,
    LedgerEntry,
)
from lps_core.ledger.services import REVERSAL
from lps_core.outlets.models import Outlet
from lps_core.reports.report import Chart, Figure, Report
from lps_core.reports.texts import dgettext


def _sum_when(condition, value=LedgerEntry.amount):
    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)


def _entries(kinds, scope, *columns, group=None):
    """The period's entries of accounts of `kinds`, by the kind on the entry (no join to accounts)."""
    query = (select(*columns).select_from(LedgerEntry)
             .where(LedgerEntry.account_kind.in_(kinds), LedgerEntry.occurred_at >= scope.starts,
                    LedgerEntry.occurred_at < scope.ends))
    outlets = scope.outlet_filter(LedgerEntry.outlet_id)
    return query if outlets is None else query.where(outlets)


def _held_before(db, kinds, moment) -> dict:
    """Each kind's sum of entries before `moment`: what the cards held then, read as today's
    balances less the entries since (each balance equals the sum of its entries), so a recent
    period reads only the entries after it."""
    read = reports_session_of(db)
    held = dict(read.execute(select(Account.kind, func.sum(Account.balance)).where(Account.kind.in_(kinds))
                             .group_by(Account.kind)).all())
    kind = LedgerEntry.account_kind
    since = dict(read.execute(
        select(kind, func.sum(LedgerEntry.amount)).select_from(LedgerEntry)
        .where(LedgerEntry.account_kind.in_(kinds), LedgerEntry.occurred_at >= moment).group_by(kind)).all())
    return {kind: int(held.get(kind) or 0) - int(since.get(kind) or 0) for kind in kinds}


def _by_outlet(db, kinds, scope, columns):
    query = _entries(kinds, scope, LedgerEntry.outlet_id, Outlet.code, Outlet.name, *columns)
    query = query.outerjoin(Outlet, Outlet.id == LedgerEntry.outlet_id)
    return reports_session_of(db).execute(query.group_by(LedgerEntry.outlet_id, Outlet.code, Outlet.name)
                                          .order_by(Outlet.code)).all()


def _by_bucket(db, kinds, scope, columns):
    read = reports_session_of(db)
    bucket, within = scope.bucket_of(read, LedgerEntry.occurred_at)
    query = within(_entries(kinds, scope, bucket.label("label"), *columns))
    return {row.label: row for row in read.execute(query.group_by(bucket))}


def _outlet_cells(row):
    return {"outlet": row.code or "-", "outlet_name": row.name or dgettext("lps_reports", "no outlet")}


def _total(rows, keys):
    return {key: sum(row[key] for row in rows) for key in keys}


OUTLET_COLUMNS = (("outlet", "Outlet"), ("outlet_name", "Outlet name"))


def stored_value_report(db, scope, settings=None) -> Report:
    amount, kind, account = LedgerEntry.amount, LedgerEntry.kind, LedgerEntry.account_kind
    is_principal, is_bonus = account == STORED_VALUE, account == STORED_VALUE_BONUS
    columns = [
        _sum_when(and_(is_principal, kind == "deposit")).label("deposits"),
        _sum_when(and_(is_bonus, kind == "deposit_bonus")).label("bonus_granted"),
        _sum_when(and_(is_principal, kind == "payment"), -amount).label("spend_principal"),
        _sum_when(and_(is_bonus, kind == "payment"), -amount).label("spend_bonus"),
        _sum_when(and_(kind == REVERSAL, amount > 0)).label("refunds"),
        func.coalesce(func.sum(amount), 0).label("net"),
    ]
    kinds = (STORED_VALUE, STORED_VALUE_BONUS)

    def cells(row):
        values = {name: int(getattr(row, name)) for name in
                  ("deposits", "bonus_granted", "spend_principal", "spend_bonus", "refunds", "net")}
        values["spend"] = values["spend_principal"] + values["spend_bonus"]
        values["other"] = values["net"] - (values["deposits"] + values["bonus_granted"] - values["spend"]
                                           + values["refunds"])
        return values

    keys = ("deposits", "bonus_granted", "spend", "spend_principal", "spend_bonus", "refunds", "other", "net")
    rows = [{**_outlet_cells(row), **cells(row)} for row in _by_outlet(db, kinds, scope, columns)]
    totals = _total(rows, keys)
    opening, closing = _held_before(db, kinds, scope.starts), _held_before(db, kinds, scope.ends)
    labels = {"deposits": dgettext("lps_reports", "Deposits"), "bonus_granted": dgettext("lps_reports", "Bonus value granted"),
              "spend": dgettext("lps_reports", "Spend"), "spend_principal": dgettext("lps_reports", "Spend of deposits"),
              "spend_bonus": dgettext("lps_reports", "Spend of bonus value"), "refunds": dgettext("lps_reports", "Refunds"),
              "other": dgettext("lps_reports", "Other movements"), "net": dgettext("lps_reports", "Net change")}
    table = Table(dgettext("lps_reports", "Stored value by outlet"),
                  [Column(key, dgettext("lps_reports", label)) for key, label in OUTLET_COLUMNS]
                  + [Column(key, labels[key], MONEY) for key in keys], rows, totals, dgettext("lps_reports", "Total"))
    figures = [Figure("float_opening", dgettext("lps_reports", "Float at the start"), MONEY, sum(opening.values())),
               *[Figure(key, labels[key], MONEY, totals[key]) for key in keys],
               Figure("float", dgettext("lps_reports", "Float at the end"), MONEY, sum(closing.values())),
               Figure("float_principal", dgettext("lps_reports", "of which deposits"), MONEY, closing[STORED_VALUE]),
               Figure("float_bonus", dgettext("lps_reports", "of which bonus value"), MONEY, closing[STORED_VALUE_BONUS])]
    by_bucket = _by_bucket(db, kinds, scope, columns)
    categories = [bucket.label for bucket in scope.buckets]
    series = [(labels[key], [cells(by_bucket[label])[key] if label in by_bucket else 0 for label in categories], "bar",
               MONEY) for key in ("deposits", "spend", "refunds")]
    return Report("stored-value", dgettext("lps_reports", "Stored value"), scope, figures, [table],
                  Chart(categories, series, dgettext("lps_reports", "Deposits, spend and refunds")),
                  notes=_programme_note(scope))


def credit_report(db, scope, settings) -> Report:
    amount, kind = LedgerEntry.amount, LedgerEntry.kind
    columns = [_sum_when(kind == "charge").label("charged"),
               _sum_when(kind == "repayment", -amount).label("repaid"),
               _sum_when(and_(kind == REVERSAL, amount < 0), -amount).label("refunded"),
               func.coalesce(func.sum(amount), 0).label("net")]

    def cells(row):
        values = {name: int(getattr(row, name)) for name in ("charged", "repaid", "refunded", "net")}
        values["other"] = values["net"] - (values["charged"] - values["repaid"] - values["refunded"])
        return values

    keys = ("charged", "repaid", "refunded", "other", "net")
    rows = [{**_outlet_cells(row), **cells(row)} for row in _by_outlet(db, (CREDIT,), scope, columns)]
    totals = _total(rows, keys)
    opening = _held_before(db, (CREDIT,), scope.starts)[CREDIT]
    owed, overdue, overdue_cards = overdue_credit(db, scope.ends, settings.overdue_days)
    labels = {"charged": dgettext("lps_reports", "Charged"), "repaid": dgettext("lps_reports", "Repaid"),
              "refunded": dgettext("lps_reports", "Refunded"), "other": dgettext("lps_reports", "Other movements"),
              "net": dgettext("lps_reports", "Net change")}
    table = Table(dgettext("lps_reports", "Credit by outlet"),
                  [Column(key, dgettext("lps_reports", label)) for key, label in OUTLET_COLUMNS]
                  + [Column(key, labels[key], MONEY) for key in keys], rows, totals, dgettext("lps_reports", "Total"))
    figures = [Figure("opening", dgettext("lps_reports", "Owed at the start"), MONEY, opening),
               *[Figure(key, labels[key], MONEY, totals[key]) for key in keys],
               Figure("outstanding", dgettext("lps_reports", "Owed at the end"), MONEY, owed),
               Figure("overdue", dgettext("lps_reports", "Overdue"), MONEY, overdue),
               Figure("overdue_cards", dgettext("lps_reports", "Cards overdue"), INTEGER, overdue_cards)]
    by_bucket = _by_bucket(db, (CREDIT,), scope, columns)
    categories = [bucket.label for bucket in scope.buckets]
    series = [(labels[key], [cells(by_bucket[label])[key] if label in by_bucket else 0 for label in categories], "bar",
               MONEY) for key in ("charged", "repaid")]
    return Report("credit", dgettext("lps_reports", "Credit"), scope, figures, [table],
                  Chart(categories, series, dgettext("lps_reports", "Charged and repaid")), notes=_programme_note(scope))


def overdue_credit(db, ends, overdue_days) -> tuple[int, int, int]:
    """(owed, overdue, cards overdue) at `ends`: per credit account, what it owed less its charges
    of the last `overdue_days` days, when positive; summed in the database."""
    recent = ends - timedelta(days=overdue_days)
    per_card = (select(func.sum(LedgerEntry.amount).label("owed"),
                       _sum_when(and_(LedgerEntry.kind == "charge", LedgerEntry.occurred_at >= recent)).label("recent"))
                .join(Account, Account.id == LedgerEntry.account_id)
                .where(Account.kind == CREDIT, LedgerEntry.occurred_at < ends)
                .group_by(LedgerEntry.account_id).subquery("per_card"))
    late = per_card.c.owed - per_card.c.recent
    row = reports_session_of(db).execute(select(
        func.coalesce(func.sum(per_card.c.owed), 0), func.coalesce(func.sum(case((late > 0, late), else_=0)), 0),
        func.count().filter(late > 0))).one()
    return int(row[0]), int(row[1]), int(row[2])


def _programme_note(scope):
    if scope.outlet_ids is None:
        return []
    return [dgettext("lps_reports", "Balances at the start and end are the whole programme's, whatever the outlet "
                                    "filter.")]
