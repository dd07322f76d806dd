"""Product and category sales, from the items of the period's sales: each settlement's items (their
amount before discount, the discount and what was charged) and the items of bills a till posted
that no settlement carries (their amount, no discount). Items are expanded in the database
(on PostgreSQL json_to_recordset for a settlement's json items and jsonb_to_recordset for a bill's
jsonb lines, each reading a row's items once and giving every field as a column; json_each on
SQLite) and summed per SKU and per category;
refunds are not itemised and do not reduce these figures (see the sales report for them)."""
from decimal import Decimal

from sqlalchemy import BigInteger, Float, Numeric, cast, column, exists, func, literal, select, type_coerce, union_all
from sqlalchemy.types import JSON, String, Text

from lps_core.cashier.models import Settlement
from lps_core.db import reports_session_of
from lps_core.earning.models import Bill
from lps_core.exports import MONEY, RATIO, Column, Table
from lps_core.reports.report import Chart, Figure, Report
from lps_core.reports.texts import dgettext

CHART_TOP = 15
QTY_PLACES = Decimal("0.001")
FIELDS = ("sku", "category", "qty", "amount", "discount", "charged")


class _Items:
    """The dialect's way to expand a JSON array column into rows and read a field of each."""

    def __init__(self, dialect):
        self.postgresql = dialect == "postgresql"

    def expand(self, items, name, *, binary=False):
        """`binary`: the column is jsonb on PostgreSQL (a bill's lines, migration 0048)."""
        if self.postgresql:  # each field as text, as ->> gave it: the casts below are the same on both
            expand = func.jsonb_to_recordset if binary else func.json_to_recordset
            return (expand(items if binary else type_coerce(items, JSON))
                    .table_valued(*[column(field, Text) for field in FIELDS])
                    .render_derived(name=name, with_types=True))
        return func.json_each(type_coerce(items, JSON)).table_valued("value")

    def text(self, item, key):
        if self.postgresql:
            return item.c[key]
        return type_coerce(func.json_extract(item.c.value, f"$.{key}"), String)

    def cents(self, item, key):
        value = self.text(item, key)
        if self.postgresql:
            return cast(func.round(cast(value, Numeric(18, 2)) * 100), BigInteger)
        return cast(func.round(cast(value, Float) * 100), BigInteger)

    def quantity(self, item):
        value = self.text(item, "qty")
        return cast(value, Numeric(18, 3)) if self.postgresql else cast(value, Float)


def item_rows(db, scope):
    read = reports_session_of(db)
    items = _Items(read.get_bind().dialect.name)
    settled = items.expand(Settlement.items, "settled_item")
    unsettled = items.expand(Bill.items, "bill_item", binary=True)

    def keep(at, outlet_id):
        clauses = [at >= scope.starts, at < scope.ends]
        outlets = scope.outlet_filter(outlet_id)
        return clauses + ([outlets] if outlets is not None else [])

    source = union_all(
        select(items.text(settled, "sku").label("sku"), items.text(settled, "category").label("category"),
               items.quantity(settled).label("qty"), items.cents(settled, "amount").label("gross"),
               items.cents(settled, "discount").label("discount"), items.cents(settled, "charged").label("charged"))
        .select_from(Settlement).join(settled, literal(True)).where(*keep(Settlement.occurred_at, Settlement.outlet_id)),
        select(items.text(unsettled, "sku"), items.text(unsettled, "category"), items.quantity(unsettled),
               items.cents(unsettled, "amount"), literal(0), items.cents(unsettled, "amount"))
        .select_from(Bill).join(unsettled, literal(True))
        .where(*keep(Bill.occurred_at, Bill.outlet_id), Bill.items.is_not(None),
               ~exists(select(Settlement.id).where(Settlement.bill_id == Bill.id))),
    ).subquery("items")
    sku, category = func.coalesce(source.c.sku, "-"), func.coalesce(source.c.category, "-")
    return read.execute(select(sku.label("sku"), category.label("category"), func.count().label("lines"),
                               func.sum(source.c.qty).label("qty"), func.sum(source.c.gross).label("gross"),
                               func.sum(source.c.discount).label("discount"), func.sum(source.c.charged).label("charged"))
                        .group_by(sku, category).order_by(func.sum(source.c.charged).desc(), sku)).all()


def products_report(db, scope, settings=None) -> Report:
    found = item_rows(db, scope)
    products = [{"sku": row.sku, "category": row.category, "qty": _quantity(row.qty), "gross": int(row.gross or 0),
                 "discount": int(row.discount or 0), "charged": int(row.charged or 0)} for row in found]
    categories = {}
    for row in products:
        line = categories.setdefault(row["category"], {"category": row["category"], "qty": Decimal(0), "gross": 0,
                                                       "discount": 0, "charged": 0})
        for key in ("qty", "gross", "discount", "charged"):
            line[key] += row[key]
    money = [Column("qty", dgettext("lps_reports", "Quantity"), RATIO),
             Column("gross", dgettext("lps_reports", "Gross"), MONEY),
             Column("discount", dgettext("lps_reports", "Discount"), MONEY),
             Column("charged", dgettext("lps_reports", "Net charged"), MONEY)]
    totals = {key: sum((row[key] for row in products), Decimal(0) if key == "qty" else 0)
              for key in ("qty", "gross", "discount", "charged")}
    totals["qty"] = _quantity(totals["qty"])
    product_table = Table(dgettext("lps_reports", "By product"),
                          [Column("sku", dgettext("lps_reports", "SKU")),
                           Column("category", dgettext("lps_reports", "Category")), *money],
                          products, totals, dgettext("lps_reports", "Total"))
    category_rows = sorted(categories.values(), key=lambda row: (-row["charged"], row["category"]))
    category_table = Table(dgettext("lps_reports", "By category"),
                           [Column("category", dgettext("lps_reports", "Category")), *money],
                           category_rows, totals, dgettext("lps_reports", "Total"))
    figures = [Figure("products", dgettext("lps_reports", "Products sold"), "integer", len(products)),
               Figure("qty", dgettext("lps_reports", "Quantity"), RATIO, totals["qty"]),
               Figure("gross", dgettext("lps_reports", "Gross"), MONEY, totals["gross"]),
               Figure("discount", dgettext("lps_reports", "Discount"), MONEY, totals["discount"]),
               Figure("charged", dgettext("lps_reports", "Net charged"), MONEY, totals["charged"])]
    top = products[:CHART_TOP]
    chart = Chart([row["sku"] for row in top],
                  [(dgettext("lps_reports", "Net charged"), [row["charged"] for row in top], "bar", MONEY)],
                  dgettext("lps_reports", "Best-selling products"))
    return Report("products", dgettext("lps_reports", "Products"), scope, figures, [product_table, category_table],
                  chart)


def _quantity(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(QTY_PLACES)
