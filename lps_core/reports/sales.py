"""Sales per outlet per day or month: what the outlets' bills came to before and after discount,
how many there were, the average bill, how they were paid, and what was refunded.

A sale is a settlement at the cashier (gross, discount, charged, its tenders), or a bill a till
posted for earning that no settlement carries (its amount is gross and charged, no discount, paid
at the till: LPS did not take its tenders). A settlement that earned points also has a bill; that
bill is counted once, as the settlement. Refunds are counted when they were made (their
created_at), against the sale's outlet; a settlement's refund also reverses its bill's points, and
is counted once, as the settlement's."""
from sqlalchemy import and_, exists, func, literal, select, union_all

from lps_core.cashier.models import Settlement, SettlementRefund, SettlementTender
from lps_core.db import reports_session_of
from lps_core.earning.models import Bill, BillRefund
from lps_core.exports import INTEGER, MONEY, TEXT, Column, Table
from lps_core.labels import LABELS, TENDER
from lps_core.reports.report import Chart, Figure, Report
from lps_core.reports.texts import dgettext

TILL = "till"  # the tender of a bill posted by a till, paid outside LPS


def _unsettled(bill_id_column):
    """A bill that no settlement carries."""
    return ~exists(select(Settlement.id).where(Settlement.bill_id == bill_id_column))


def _in(scope, column, outlet_column):
    clauses = [column >= scope.starts, column < scope.ends]
    outlets = scope.outlet_filter(outlet_column)
    return and_(*clauses, *([outlets] if outlets is not None else []))


def sales_rows(db, scope):
    """(bucket, outlet id) -> bills, gross, discount, charged, refunds and the tenders' sums."""
    sales = union_all(
        select(Settlement.outlet_id.label("outlet_id"), Settlement.occurred_at.label("at"),
               Settlement.gross_cents.label("gross"), Settlement.discount_cents.label("discount"),
               Settlement.charged_cents.label("charged"))
        .where(_in(scope, Settlement.occurred_at, Settlement.outlet_id)),
        select(Bill.outlet_id, Bill.occurred_at, Bill.amount_cents, literal(0), Bill.amount_cents)
        .where(_in(scope, Bill.occurred_at, Bill.outlet_id), _unsettled(Bill.id)),
    ).subquery("sales")
    read = reports_session_of(db)
    bucket, within = scope.bucket_of(read, sales.c.at)
    rows = {}
    for label, outlet_id, count, gross, discount, charged in read.execute(within(
            select(bucket.label("label"), sales.c.outlet_id, func.count(), func.sum(sales.c.gross),
                   func.sum(sales.c.discount), func.sum(sales.c.charged)).select_from(sales))
            .group_by(bucket, sales.c.outlet_id)):
        rows[(label, outlet_id)] = {"bills": int(count), "gross": int(gross), "discount": int(discount),
                                    "net": int(charged), "refunds": 0, "tenders": {}}

    tenders = union_all(
        select(Settlement.outlet_id.label("outlet_id"), Settlement.occurred_at.label("at"),
               SettlementTender.kind.label("kind"), SettlementTender.amount_cents.label("amount"))
        .join(SettlementTender, SettlementTender.settlement_id == Settlement.id)
        .where(_in(scope, Settlement.occurred_at, Settlement.outlet_id)),
        select(Bill.outlet_id, Bill.occurred_at, literal(TILL), Bill.amount_cents)
        .where(_in(scope, Bill.occurred_at, Bill.outlet_id), _unsettled(Bill.id)),
    ).subquery("tenders")
    bucket, within = scope.bucket_of(read, tenders.c.at)
    for label, outlet_id, kind, amount in read.execute(within(
            select(bucket.label("label"), tenders.c.outlet_id, tenders.c.kind, func.sum(tenders.c.amount))
            .select_from(tenders)).group_by(bucket, tenders.c.outlet_id, tenders.c.kind)):
        rows[(label, outlet_id)]["tenders"][kind] = int(amount)

    refunds = union_all(
        select(Settlement.outlet_id.label("outlet_id"), SettlementRefund.created_at.label("at"),
               SettlementRefund.amount_cents.label("amount"))
        .join(Settlement, Settlement.id == SettlementRefund.settlement_id)
        .where(_in(scope, SettlementRefund.created_at, Settlement.outlet_id)),
        select(Bill.outlet_id, BillRefund.created_at, BillRefund.amount_cents)
        .join(Bill, Bill.id == BillRefund.bill_id)
        .where(_in(scope, BillRefund.created_at, Bill.outlet_id), _unsettled(Bill.id)),
    ).subquery("refunds")
    bucket, within = scope.bucket_of(read, refunds.c.at)
    for label, outlet_id, amount in read.execute(within(
            select(bucket.label("label"), refunds.c.outlet_id, func.sum(refunds.c.amount))
            .select_from(refunds)).group_by(bucket, refunds.c.outlet_id)):
        row = rows.setdefault((label, outlet_id), {"bills": 0, "gross": 0, "discount": 0, "net": 0, "tenders": {}})
        row["refunds"] = int(amount)
    return rows


def _average(net, bills):
    return (net + bills // 2) // bills if bills else 0  # to the nearest cent, half up


def sales_report(db, scope, settings=None) -> Report:
    rows = sales_rows(db, scope)
    outlets = {row.id: row for row in _outlet_names(db, {outlet_id for _, outlet_id in rows})}
    kinds = sorted({kind for row in rows.values() for kind in row["tenders"]})
    columns = [Column("period", dgettext("lps_reports", "Period")), Column("outlet", dgettext("lps_reports", "Outlet")),
               Column("outlet_name", dgettext("lps_reports", "Outlet name")),
               Column("bills", dgettext("lps_reports", "Bills"), INTEGER),
               Column("gross", dgettext("lps_reports", "Gross"), MONEY),
               Column("discount", dgettext("lps_reports", "Discount"), MONEY),
               Column("net", dgettext("lps_reports", "Net charged"), MONEY),
               Column("average", dgettext("lps_reports", "Average bill"), MONEY),
               Column("refunds", dgettext("lps_reports", "Refunds"), MONEY),
               Column("net_after_refunds", dgettext("lps_reports", "Net after refunds"), MONEY)]
    columns += [Column(f"tender_{kind}", _tender_label(kind), MONEY) for kind in kinds]
    table_rows = []
    totals = {"bills": 0, "gross": 0, "discount": 0, "net": 0, "refunds": 0}
    totals.update({f"tender_{kind}": 0 for kind in kinds})
    for (label, outlet_id), row in sorted(rows.items(), key=lambda item: (item[0][0], outlets[item[0][1]].code)):
        line = {"period": label, "outlet": outlets[outlet_id].code, "outlet_name": outlets[outlet_id].name,
                "bills": row["bills"], "gross": row["gross"], "discount": row["discount"], "net": row["net"],
                "average": _average(row["net"], row["bills"]), "refunds": row["refunds"],
                "net_after_refunds": row["net"] - row["refunds"]}
        line.update({f"tender_{kind}": row["tenders"].get(kind, 0) for kind in kinds})
        table_rows.append(line)
        for key in totals:
            totals[key] += line[key]
    totals["average"] = _average(totals["net"], totals["bills"])
    totals["net_after_refunds"] = totals["net"] - totals["refunds"]
    figures = [Figure("bills", dgettext("lps_reports", "Bills"), INTEGER, totals["bills"]),
               Figure("gross", dgettext("lps_reports", "Gross"), MONEY, totals["gross"]),
               Figure("discount", dgettext("lps_reports", "Discount"), MONEY, totals["discount"]),
               Figure("net", dgettext("lps_reports", "Net charged"), MONEY, totals["net"]),
               Figure("average", dgettext("lps_reports", "Average bill"), MONEY, totals["average"]),
               Figure("refunds", dgettext("lps_reports", "Refunds"), MONEY, totals["refunds"]),
               Figure("net_after_refunds", dgettext("lps_reports", "Net after refunds"), MONEY,
                      totals["net_after_refunds"])]
    figures += [Figure(f"tender_{kind}", _tender_label(kind), MONEY, totals[f"tender_{kind}"]) for kind in kinds]
    by_tender = Table(dgettext("lps_reports", "By tender"),
                      [Column("tender", dgettext("lps_reports", "Tender"), TEXT),
                       Column("amount", dgettext("lps_reports", "Amount"), MONEY)],
                      [{"tender": kind, "amount": totals[f"tender_{kind}"]} for kind in kinds])
    labels = [bucket.label for bucket in scope.buckets]
    net_by_bucket = {label: 0 for label in labels}
    bills_by_bucket = {label: 0 for label in labels}
    for (label, _), row in rows.items():
        net_by_bucket[label] += row["net"]
        bills_by_bucket[label] += row["bills"]
    chart = Chart(labels, [(dgettext("lps_reports", "Net charged"), list(net_by_bucket.values()), "bar", MONEY),
                           (dgettext("lps_reports", "Bills"), list(bills_by_bucket.values()), "line", INTEGER)],
                  dgettext("lps_reports", "Net charged and bills"))
    table = Table(dgettext("lps_reports", "Sales per outlet"), columns, table_rows, totals,
                  dgettext("lps_reports", "Total"))
    return Report("sales", dgettext("lps_reports", "Sales"), scope, figures, [table, by_tender], chart)


def _tender_label(kind):
    if kind == TILL:
        return dgettext("lps_reports", "Paid at the till")
    return LABELS[TENDER].get(kind, kind)


def _outlet_names(db, outlet_ids):
    from lps_core.outlets.models import Outlet

    if not outlet_ids:
        return []
    return reports_session_of(db).execute(select(Outlet.id, Outlet.code, Outlet.name)
                                          .where(Outlet.id.in_(sorted(outlet_ids)))).all()
