"""The transactions search (the seed's query list): every settlement, every bill a till posted
that no settlement carries, every refund of either and every reward redemption, one row each,
filtered by card, card type, outlet, operator, amount, discount, kind and time, newest first.

The five sources are one UNION ALL with the same columns, filtered and counted in the database;
a page or an export reads only its own rows. Amounts are what changed hands: a settlement's
charged amount, a bill's amount, a refund's amount (a refund is a row of its own, at the moment
it was made); a redemption moves points, not money, and has no amount. Points are signed: earned
on a sale, taken back by a refund, spent on a redemption."""
from sqlalchemy import and_, exists, func, literal, null, select, union_all

from lps_core.cards.models import Card, CardType
from lps_core.cashier.models import Settlement, SettlementRefund
from lps_core.db import reports_session_of
from lps_core.earning.models import Bill, BillRefund
from lps_core.exports import INTEGER, MONEY, Column, Table
from lps_core.outlets.models import Outlet
from lps_core.reports.report import Chart, Figure, Report
from lps_core.reports.texts import dgettext
from lps_core.rewards.models import Redemption

MAX_EXPORT_ROWS = 100_000
KINDS = ("settlement", "bill", "refund", "redemption")


def _unsettled(bill_id):
    return ~exists(select(Settlement.id).where(Settlement.bill_id == bill_id))


def transactions_source(scope):
    """Every transaction of the period and outlets as one subquery of the same columns."""
    def keep(at, outlet_id):
        clauses = [at >= scope.starts, at < scope.ends]
        outlets = scope.outlet_filter(outlet_id)
        return and_(*clauses, *([outlets] if outlets is not None else []))

    no_text = null()
    settlements = select(
        literal("settlement").label("kind"), Settlement.id.label("id"), Settlement.occurred_at.label("at"),
        Settlement.outlet_id.label("outlet_id"), Settlement.card_id.label("card_id"),
        Settlement.member_id.label("member_id"), Settlement.operator.label("operator"),
        Settlement.bill_no.label("reference"), no_text.label("refund_no"),
        Settlement.gross_cents.label("gross"), Settlement.discount_cents.label("discount"),
        Settlement.charged_cents.label("amount"), Settlement.points.label("points"),
    ).where(keep(Settlement.occurred_at, Settlement.outlet_id))
    bills = select(
        literal("bill"), Bill.id, Bill.occurred_at, Bill.outlet_id, Bill.card_id, Bill.member_id, no_text,
        Bill.bill_no, no_text, Bill.amount_cents, literal(0), Bill.amount_cents, Bill.points,
    ).where(keep(Bill.occurred_at, Bill.outlet_id), _unsettled(Bill.id))
    settlement_refunds = select(
        literal("refund"), SettlementRefund.id, SettlementRefund.created_at, Settlement.outlet_id, Settlement.card_id,
        Settlement.member_id, SettlementRefund.operator, Settlement.bill_no, SettlementRefund.refund_no,
        null(), literal(0), SettlementRefund.amount_cents, -SettlementRefund.points,
    ).join(Settlement, Settlement.id == SettlementRefund.settlement_id).where(
        keep(SettlementRefund.created_at, Settlement.outlet_id))
    bill_refunds = select(
        literal("refund"), BillRefund.id, BillRefund.created_at, Bill.outlet_id, Bill.card_id, Bill.member_id, no_text,
        Bill.bill_no, BillRefund.refund_no, null(), literal(0), BillRefund.amount_cents, -BillRefund.points,
    ).join(Bill, Bill.id == BillRefund.bill_id).where(keep(BillRefund.created_at, Bill.outlet_id), _unsettled(Bill.id))
    redemptions = select(
        literal("redemption"), Redemption.id, Redemption.redeemed_at, Redemption.outlet_id, Redemption.card_id,
        Redemption.member_id, no_text, Redemption.request_no, no_text, null(), literal(0), null(),
        -Redemption.points,
    ).where(keep(Redemption.redeemed_at, Redemption.outlet_id))
    return union_all(settlements, bills, settlement_refunds, bill_refunds, redemptions).subquery("transactions")


def filtered(source, filters):
    """The source joined to its card, card type and outlet, with the search's filters."""
    query = (select(source, Card.card_no, CardType.code.label("card_type"), Outlet.code.label("outlet"))
             .select_from(source).join(Card, Card.id == source.c.card_id)
             .join(CardType, CardType.id == Card.card_type_id).join(Outlet, Outlet.id == source.c.outlet_id))
    return _where(query, source, filters)


def counted(source, filters):
    """The same matches as filtered(), to count and sum: joined to the card and its type only when a
    filter reads them. Every transaction has exactly one card of one type at one outlet (NOT NULL
    foreign keys), so the joins neither add nor drop a row, and counting a month's sales need not
    join them to a million cards."""
    query = select(source).select_from(source)
    if filters.card or filters.card_type:
        query = query.join(Card, Card.id == source.c.card_id)
    if filters.card_type:
        query = query.join(CardType, CardType.id == Card.card_type_id)
    return _where(query, source, filters)


def _where(query, source, filters):
    if filters.card:
        query = query.where(Card.card_no == filters.card.replace(" ", "").replace("-", ""))
    if filters.card_type:
        query = query.where(CardType.code == filters.card_type)
    if filters.operator:
        query = query.where(source.c.operator == filters.operator)
    if filters.kind:
        query = query.where(source.c.kind == filters.kind)
    if filters.min_amount is not None:
        query = query.where(source.c.amount >= filters.min_amount)
    if filters.max_amount is not None:
        query = query.where(source.c.amount <= filters.max_amount)
    if filters.discount == "yes":
        query = query.where(source.c.discount > 0)
    elif filters.discount == "no":
        query = query.where(source.c.kind.in_(("settlement", "bill")), source.c.discount == 0)
    return query


def transactions_report(db, scope, settings=None, *, filters, export=False) -> Report:
    read = reports_session_of(db)
    source = transactions_source(scope)
    matches = counted(source, filters).subquery("matches")
    # One pass over the matches for the totals and the count of each kind.
    by_kind = read.execute(select(
        matches.c.kind, func.count().label("count"), func.coalesce(func.sum(matches.c.gross), 0).label("gross"),
        func.coalesce(func.sum(matches.c.discount), 0).label("discount"),
        func.coalesce(func.sum(matches.c.amount), 0).label("amount"),
        func.coalesce(func.sum(matches.c.points), 0).label("points")).group_by(matches.c.kind)).all()
    counts = {row.kind: int(row.count) for row in by_kind}
    total = sum(counts.values())
    sales = [row for row in by_kind if row.kind in ("settlement", "bill")]
    summary = (total, sum(int(row.gross) for row in sales), sum(int(row.discount) for row in sales),
               sum(int(row.amount) for row in sales), sum(int(row.amount) for row in by_kind if row.kind == "refund"),
               sum(int(row.points) for row in by_kind))
    listed = filtered(source, filters).subquery("listed")
    ordered = select(listed).order_by(listed.c.at.desc(), listed.c.kind, listed.c.id.desc())
    if export:
        page = {"page": 1, "per_page": MAX_EXPORT_ROWS, "total": total}
        found = read.execute(ordered.limit(MAX_EXPORT_ROWS)).all()
    else:
        page = {"page": filters.page, "per_page": filters.per_page, "total": total}
        found = read.execute(ordered.limit(filters.per_page).offset((filters.page - 1) * filters.per_page)).all()
    rows = [{"time": _local(row.at, scope.tz), "kind": row.kind, "outlet": row.outlet, "reference": row.reference,
             "refund_no": row.refund_no, "card_no": row.card_no, "card_type": row.card_type,
             "member_id": row.member_id, "operator": row.operator, "gross": row.gross, "discount": row.discount,
             "amount": row.amount, "points": int(row.points or 0)} for row in found]
    columns = [Column("time", dgettext("lps_reports", "Time")), Column("kind", dgettext("lps_reports", "Kind")),
               Column("outlet", dgettext("lps_reports", "Outlet")),
               Column("reference", dgettext("lps_reports", "Bill or request no.")),
               Column("refund_no", dgettext("lps_reports", "Refund no.")),
               Column("card_no", dgettext("lps_reports", "Card no.")),
               Column("card_type", dgettext("lps_reports", "Card type")),
               Column("member_id", dgettext("lps_reports", "Member"), INTEGER),
               Column("operator", dgettext("lps_reports", "Operator")),
               Column("gross", dgettext("lps_reports", "Gross"), MONEY),
               Column("discount", dgettext("lps_reports", "Discount"), MONEY),
               Column("amount", dgettext("lps_reports", "Amount"), MONEY),
               Column("points", dgettext("lps_reports", "Points"), INTEGER)]
    figures = [Figure("count", dgettext("lps_reports", "Transactions"), INTEGER, total),
               Figure("sales_gross", dgettext("lps_reports", "Sales before discount"), MONEY, int(summary[1])),
               Figure("sales_discount", dgettext("lps_reports", "Discount given"), MONEY, int(summary[2])),
               Figure("sales_amount", dgettext("lps_reports", "Sales charged"), MONEY, int(summary[3])),
               Figure("refund_amount", dgettext("lps_reports", "Refunded"), MONEY, int(summary[4])),
               Figure("points", dgettext("lps_reports", "Net points"), INTEGER, int(summary[5]))]
    notes = []
    if export and total > MAX_EXPORT_ROWS:
        notes.append(dgettext("lps_reports", "Only the newest 100000 transactions are exported: narrow the filters."))
    chart = Chart(list(KINDS), [(dgettext("lps_reports", "Transactions"), [int(counts.get(kind, 0)) for kind in KINDS],
                                 "bar", INTEGER)], dgettext("lps_reports", "Transactions by kind"))
    table = Table(dgettext("lps_reports", "Transactions"), columns, rows)
    return Report("transactions", dgettext("lps_reports", "Transactions"), scope, figures, [table], chart, page, notes)


def _local(moment, tz) -> str:
    from lps_core.timeutil import as_utc

    return as_utc(moment).astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")

