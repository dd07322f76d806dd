"""THE RECONCILIATION TEST: a known set of bills, settlements, refunds, deposits, credit, a
redemption and an expiry, posted through the real services (the API and the expiry job); every
report's totals are checked against the figures worked out by hand AND against the ledger's own
sums; the API's JSON, CSV and XLSX give the same figures; a bad filter is 400 naming the field."""
import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, insert, select

from lps_core.cards.models import CardType
from lps_core.db import get_session_factory, run_in_transaction
from lps_core.expiry.jobs import expire_points
from lps_core.ledger import services as ledger
from lps_core.ledger.check import find_drift
from lps_core.ledger.models import CREDIT, POINTS, STORED_VALUE, STORED_VALUE_BONUS, Account, LedgerEntry
from lps_core.members.services import Enrolment, approve_member, enrol_member
from lps_core.reports.catalogue import run_report
from lps_core.reports.credit_and_value import overdue_credit
from lps_core.reports.schemas import TransactionFilters
from lps_core.reports.settings import ReportSettings
from lps_core.timeutil import utcnow

SETTINGS = ReportSettings.from_mapping({})


class JobEnvironment:
    """What `lps jobs expire` gets from the CLI, on the test database."""

    def __init__(self, engine, plugins):
        self.settings, self.engine, self.plugins = {}, engine, plugins
        self.session_factory = get_session_factory(engine)

    def transaction(self, work):
        return run_in_transaction(self.session_factory, work)


@pytest.fixture
def postings(testapp, seed, engine):
    """The known set, posted now (the expired lot was earned two days ago)."""
    db = seed.db
    db.execute(insert(CardType), [{
        "code": "prepaid", "name": "Prepaid", "prefix": "8801", "discount_rate": Decimal("0.1"),
        "discount_overrides": [{"category": "drinks", "rate": "0.2"}], "stored_value": True,
        "deposit_bonuses": [{"min_deposit": "1000.00", "bonus": "100.00"}], "credit_limit_cents": 100000,
        "credit_warning_ratio": Decimal("0.8")}])
    db.commit()
    rest = {"Authorization": f"Bearer {seed.api_key('REST')}"}
    spa = {"Authorization": f"Bearer {seed.api_key('SPA')}"}
    member_id = enrol_member(db, Enrolment(name="Zhao Lei", channel="desk", phone="+8613911112222"))
    prepaid = approve_member(db, member_id, card_type_code="prepaid")
    db.commit()
    standard = seed.member_card("Qian Hao")
    expiring = seed.member_card("Sun Li")

    def post(url, body, headers=rest):
        return testapp.post_json(url, body, headers=headers, status=201).json

    post(f"/api/v1/cards/{prepaid}/deposits", {"deposit_no": "D1", "amount": "1000.00", "tender": "cash"})
    s1 = post("/api/v1/settlements", {"card_no": prepaid, "bill_no": "S1", "tenders": [
        {"kind": "stored_value", "amount": "110.00"}, {"kind": "cash", "amount": "20.00"}], "items": [
        {"sku": "STEAK", "category": "food", "qty": "1", "amount": "100.00"},
        {"sku": "WINE", "category": "drinks", "qty": "2", "amount": "50.00"}]})
    post("/api/v1/settlements", {"card_no": prepaid, "bill_no": "S3", "tenders": [
        {"kind": "credit", "amount": "45.00"}], "items": [
        {"sku": "STEAK", "category": "food", "qty": "1", "amount": "50.00"}]})
    post("/api/v1/settlements", {"card_no": standard, "bill_no": "S2", "tenders": [
        {"kind": "cash", "amount": "300.00"}], "items": [
        {"sku": "MASSAGE", "category": "spa", "qty": "1", "amount": "300.00"}]}, spa)
    post("/api/v1/transactions", {"card_no": standard, "bill_no": "B-77", "amount": "200.00", "items": [
        {"sku": "ROOM", "category": "rooms", "qty": "1", "amount": "200.00"}]})
    post(f"/api/v1/settlements/{s1['id']}/refunds", {})
    testapp.post_json(f"/api/v1/cards/{prepaid}/credit-repayments",
                      {"repayment_no": "P1", "amount": "20.00", "tender": "cash"}, headers=rest)
    manager = {"Authorization": f"Bearer {seed.api_key('REST', scopes=['rewards', 'rewards.manage'])}"}
    testapp.post_json("/api/v1/rewards", {"code": "MUG", "name": "Hotel mug", "category": "item", "cost": "5.00",
                                          "stock": 10}, headers=manager)
    post("/api/v1/redemptions", {"card_no": standard, "reward": "MUG", "request_no": "R1"}, manager)
    now = utcnow()
    ledger.credit(db, seed.points_account(expiring), 300, kind=ledger.EARN, business_key="gift:expiring",
                  fingerprint="gift", occurred_at=now - timedelta(days=2), expires_at=now - timedelta(days=1))
    db.commit()
    expire_points(JobEnvironment(engine, seed.plugins), now=now)
    db.commit()
    return {"prepaid": prepaid, "standard": standard, "now": now}


def report(db, name, **filters):
    filters.setdefault("period", "range")
    filters.setdefault("from", (utcnow() - timedelta(days=10)).date().isoformat())
    filters.setdefault("to", (utcnow() + timedelta(days=1)).date().isoformat())
    filters = {key: value for key, value in filters.items() if value is not None}  # None: left out
    db.rollback()  # a fresh snapshot: what the app committed
    model = TransactionFilters.model_validate(filters)
    from zoneinfo import ZoneInfo
    return run_report(db, name, model, ZoneInfo("UTC"), SETTINGS).as_json()


def ledger_sum(db, kinds, **where):
    query = select(func.coalesce(func.sum(LedgerEntry.amount), 0)).join(Account, Account.id == LedgerEntry.account_id)
    query = query.where(Account.kind.in_(kinds))
    for column, value in where.items():
        query = query.where(getattr(LedgerEntry, column) == value)
    return int(db.scalar(query))


def balances(db, kinds):
    return int(db.scalar(select(func.coalesce(func.sum(Account.balance), 0)).where(Account.kind.in_(kinds))))


def cents(text):
    return int(Decimal(text) * 100)


def test_sales_reconcile(seed, postings):
    sales = report(seed.db, "sales")
    assert {key: sales["totals"][key] for key in ("bills", "gross", "discount", "net", "average", "refunds",
                                                   "net_after_refunds")} == {
        "bills": 4, "gross": "700.00", "discount": "25.00", "net": "675.00", "average": "168.75",
        "refunds": "130.00", "net_after_refunds": "545.00"}
    assert {key: value for key, value in sales["totals"].items() if key.startswith("tender_")} == {
        "tender_cash": "320.00", "tender_credit": "45.00", "tender_stored_value": "110.00", "tender_till": "200.00"}
    table = sales["tables"][0]
    by_outlet = {}
    for row in table["rows"]:
        line = by_outlet.setdefault(row["outlet"], [0, 0, 0, 0])
        for index, key in enumerate(("bills", "gross", "discount", "refunds")):
            line[index] += row[key] if key == "bills" else cents(row[key])
    assert by_outlet == {"REST": [3, 40000, 2500, 13000], "SPA": [1, 30000, 0, 0]}
    assert table["totals"]["net"] == "675.00"
    # the tenders taken from cards are the ledger's payments and charges
    assert cents(sales["totals"]["tender_stored_value"]) == -ledger_sum(seed.db, (STORED_VALUE, STORED_VALUE_BONUS),
                                                                         kind="payment")
    assert cents(sales["totals"]["tender_credit"]) == ledger_sum(seed.db, (CREDIT,), kind="charge")
    chart = sales["chart"]
    assert sum(cents(value) for value in chart["series"][0]["data"]) == 67500


def test_points_reconcile_with_the_ledger(seed, postings):
    points = report(seed.db, "points")
    totals = points["totals"]
    assert {key: totals[key] for key in ("opening", "issued", "reversed", "restored", "redeemed", "expired",
                                          "outstanding")} == {
        "opening": 0, "issued": 1265, "reversed": 120, "restored": 0, "redeemed": 500, "expired": 300,
        "outstanding": 345}
    db = seed.db
    assert totals["outstanding"] == balances(db, (POINTS,)) == ledger_sum(db, (POINTS,))
    assert totals["expired"] == -ledger_sum(db, (POINTS,), kind="expiry")
    assert totals["redeemed"] == -ledger_sum(db, (POINTS,), kind="redeem")
    assert totals["reversed"] == -ledger_sum(db, (POINTS,), kind="reversal")
    assert totals["issued"] == ledger_sum(db, (POINTS,), kind="earn")
    assert (totals["breakage"], totals["point_value"]) == ("0.3750", "0.01")  # 300 / (300 + 500)
    assert (totals["liability"], totals["liability_net_of_breakage"]) == ("3.45", "2.16")  # 3.45 x 0.625 = 2.156
    outlets, tiers = points["tables"]
    assert outlets["totals"]["issued"] + 0 == 1265 and outlets["totals"]["expired"] == 300
    assert {row["outlet"]: row["issued"] for row in outlets["rows"]} == {"REST": 365, "SPA": 600, "-": 300}
    assert tiers["totals"]["outstanding"] == 345 and tiers["totals"]["liability"] == "3.45"
    assert find_drift(db) == []


def test_the_tier_breakdown_reads_balances_and_entries_in_one_statement(seed, postings):
    """Closing balances by tier are today's balances less the entries since the period's end: read
    in two statements, a posting between them would count in one and not the other. One statement
    reads both, in one snapshot."""
    from lps_core.testing import statements_sent

    with statements_sent(seed.db.get_bind()) as statements:
        tiers = report(seed.db, "points")["tables"][1]
    [balances_read] = [statement for statement in statements if "accounts.balance" in statement]
    assert "ledger_entries" in balances_read
    assert tiers["totals"]["outstanding"] == balances(seed.db, (POINTS,))


def test_stored_value_and_credit_reconcile_with_the_ledger(seed, postings):
    db = seed.db
    value = report(db, "stored-value")["totals"]
    assert {key: value[key] for key in ("float_opening", "deposits", "bonus_granted", "spend", "spend_principal",
                                         "spend_bonus", "refunds", "other", "float", "float_principal",
                                         "float_bonus")} == {
        "float_opening": "0.00", "deposits": "1000.00", "bonus_granted": "100.00", "spend": "110.00",
        "spend_principal": "100.00", "spend_bonus": "10.00", "refunds": "110.00", "other": "0.00",
        "float": "1100.00", "float_principal": "1000.00", "float_bonus": "100.00"}
    assert cents(value["float"]) == balances(db, (STORED_VALUE, STORED_VALUE_BONUS))
    assert cents(value["deposits"]) == ledger_sum(db, (STORED_VALUE,), kind="deposit")
    credit = report(db, "credit")["totals"]
    assert {key: credit[key] for key in ("opening", "charged", "repaid", "refunded", "outstanding", "overdue",
                                          "overdue_cards")} == {
        "opening": "0.00", "charged": "45.00", "repaid": "20.00", "refunded": "0.00", "outstanding": "25.00",
        "overdue": "0.00", "overdue_cards": 0}
    assert cents(credit["outstanding"]) == balances(db, (CREDIT,))
    # Forty days on, the 25.00 still owed is for a charge older than 30 days: overdue
    assert overdue_credit(db, postings["now"] + timedelta(days=40), 30) == (2500, 2500, 1)
    assert overdue_credit(db, postings["now"] + timedelta(days=20), 30) == (2500, 0, 0)


def test_transactions_search(seed, postings):
    db = seed.db
    everything = report(db, "transactions")
    assert everything["page"]["total"] == 6
    assert sorted(row["kind"] for row in everything["tables"][0]["rows"]) == [
        "bill", "redemption", "refund", "settlement", "settlement", "settlement"]
    assert (everything["totals"]["sales_amount"], everything["totals"]["refund_amount"]) == ("675.00", "130.00")
    assert everything["totals"]["points"] == 1265 - 300 - 120 - 500  # the expiry is no transaction

    def count(**filters):
        return report(db, "transactions", **filters)["page"]["total"]

    assert count(card=postings["prepaid"]) == 3
    assert count(card_type="prepaid") == 3
    assert count(kind="refund") == 1
    assert count(outlet="SPA") == 1
    assert count(min_amount="100.00") == 4
    assert count(min_amount="100.00", max_amount="200.00") == 3  # S1, its refund, B-77
    assert count(discount="yes") == 2
    assert count(discount="no") == 2
    paged = report(db, "transactions", per_page="4", page="2")
    assert len(paged["tables"][0]["rows"]) == 2 and paged["page"] == {"page": 2, "per_page": 4, "total": 6}


def test_products_add_up_to_the_sales(seed, postings):
    products = report(seed.db, "products")
    rows = {row["sku"]: (row["qty"], row["gross"], row["discount"], row["charged"])
            for row in products["tables"][0]["rows"]}
    assert rows == {"STEAK": ("2.000", "150.00", "15.00", "135.00"), "WINE": ("2.000", "50.00", "10.00", "40.00"),
                    "MASSAGE": ("1.000", "300.00", "0.00", "300.00"), "ROOM": ("1.000", "200.00", "0.00", "200.00")}
    sales = report(seed.db, "sales")["totals"]
    assert (products["totals"]["gross"], products["totals"]["discount"], products["totals"]["charged"]) == (
        sales["gross"], sales["discount"], sales["net"])
    categories = {row["category"]: row["charged"] for row in products["tables"][1]["rows"]}
    assert categories == {"food": "135.00", "drinks": "40.00", "spa": "300.00", "rooms": "200.00"}


def test_outlet_and_period_filters(seed, postings):
    db = seed.db
    assert report(db, "sales", outlet="SPA")["totals"]["net"] == "300.00"
    assert report(db, "sales", property="T")["totals"]["net"] == "675.00"
    tomorrow = (utcnow() + timedelta(days=1)).date().isoformat()
    assert report(db, "sales", period="day", date=tomorrow, **{"from": None, "to": None})["totals"]["bills"] == 0
    points = report(db, "points", outlet="REST")
    assert points["totals"]["issued"] == 365 and points["totals"]["outstanding"] == 345


# --- The API: the same figures as JSON, CSV and XLSX; bad filters named -------------------------------

def api(testapp, key, name, status=200, **params):
    params.setdefault("period", "range")
    params.setdefault("from", (utcnow() - timedelta(days=10)).date().isoformat())
    params.setdefault("to", (utcnow() + timedelta(days=1)).date().isoformat())
    params = {key_: value for key_, value in params.items() if value is not None}  # None: left out
    return testapp.get(f"/api/v1/reports/{name}", params, headers={"Authorization": f"Bearer {key}"}, status=status)


def csv_totals(body: bytes) -> dict:
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    header = next(index for index, row in enumerate(rows) if row and row[0] not in ("",) and len(row) > 1)
    return dict(zip(rows[header], rows[header + 1]))


def xlsx_totals(body: bytes) -> dict:
    sheet = load_workbook(io.BytesIO(body))["Totals"]
    header = next(row for row in sheet.iter_rows() if len([cell for cell in row if cell.value is not None]) > 1)
    values = sheet[header[0].row + 1]
    return {cell.value: values[index].value for index, cell in enumerate(header)}


@pytest.mark.parametrize("name", ["sales", "points", "stored-value", "credit", "transactions", "products"])
def test_the_api_gives_the_same_figures_as_json_csv_and_xlsx(testapp, seed, postings, name):
    key = seed.api_key("REST", scopes=["reports"])
    answer = api(testapp, key, name).json
    assert answer["report"] == name and answer["totals"]
    by_csv = csv_totals(api(testapp, key, name, format="csv").body)
    by_xlsx = xlsx_totals(api(testapp, key, name, format="xlsx").body)
    assert len(by_csv) == len(by_xlsx) == len(answer["totals"])
    for (key_, value), text, cell in zip(answer["totals"].items(), by_csv.values(), by_xlsx.values()):
        assert str(value) == text, key_
        assert Decimal(str(cell)) == Decimal(str(value)), key_
    if name == "sales":
        assert (answer["totals"]["net"], by_csv["Net charged"], by_xlsx["Net charged"]) == ("675.00", "675.00",
                                                                                             Decimal("675"))
        workbook = load_workbook(io.BytesIO(api(testapp, key, name, format="xlsx").body))
        rows = list(workbook["Sales per outlet"].iter_rows(values_only=True))
        assert rows[-1][0] == "Total" and rows[-1][6] == Decimal("675")


def test_the_api_needs_the_reports_scope(testapp, seed):
    api(testapp, seed.api_key("REST", scopes=["transactions"]), "sales", status=403)
    testapp.get("/api/v1/reports/sales", status=401)


@pytest.mark.parametrize("params, status, field", [
    ({"period": "week"}, 400, "period"),
    ({"property": "bad code!"}, 400, "property"),
    ({"format": "pdf"}, 400, "format"),
    ({"from": "26-11-01"}, 400, "from"),
    ({"colour": "red"}, 400, "colour"),
    # well formed, as the document allows, but unusable: 422 naming the field
    ({"from": None}, 422, "from"),
    ({"from": "2026-02-30"}, 422, "from"),
    ({"from": "1999-12-31"}, 422, "from"),
    ({"to": "2020-01-01", "from": "2020-02-01"}, 422, "to"),
    ({"outlet": "NOPE"}, 422, "outlet"),
    ({"partner": "T"}, 422, "partner"),
    ({"group_by": "day", "from": "2020-01-01", "to": "2022-01-01"}, 422, "group_by"),
    ({"period": "day", "date": "2026-11", "from": None, "to": None}, 422, "date"),
    ({"period": "month", "date": "2026-13", "from": None, "to": None}, 422, "date"),
    ({"period": "month", "date": "2026-11"}, 422, "from"),
])
def test_bad_filters_name_the_field(testapp, seed, params, status, field):
    answer = api(testapp, seed.api_key("REST", scopes=["reports"]), "sales", status=status, **params)
    assert field in answer.json["fields"], answer.json


def test_transactions_filters_over_the_api(testapp, seed, postings):
    key = seed.api_key("REST", scopes=["reports"])
    answer = api(testapp, key, "transactions", kind="refund").json
    assert answer["page"]["total"] == 1 and answer["tables"][0]["rows"][0]["amount"] == "130.00"
    assert api(testapp, key, "transactions", status=400, min_amount="1.234").json["fields"].keys() == {"min_amount"}
    assert api(testapp, key, "sales", status=400, kind="refund").json["fields"].keys() == {"kind"}


def test_control_characters_in_a_filter_do_not_break_the_xlsx(testapp, seed):
    key = seed.api_key("REST", scopes=["reports"])
    answer = api(testapp, key, "transactions", format="xlsx", operator="\x18night\x0eshift")
    notes = [row[0] for row in load_workbook(io.BytesIO(answer.body))["Totals"].iter_rows(values_only=True)]
    assert "operator: nightshift" in notes


def test_balances_at_an_earlier_period_end(seed, postings):
    """Outstanding points and the float of a past day: today's balances less what came since."""
    two_days_ago = (postings["now"] - timedelta(days=2)).date().isoformat()
    points = report(seed.db, "points", period="day", date=two_days_ago, **{"from": None, "to": None})["totals"]
    assert (points["opening"], points["issued"], points["outstanding"]) == (0, 300, 300)  # the lot that expired since
    value = report(seed.db, "stored-value", period="day", date=two_days_ago, **{"from": None, "to": None})["totals"]
    assert (value["float_opening"], value["float"]) == ("0.00", "0.00")  # the deposit came later
