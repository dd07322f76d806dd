"""Partners and franchise stores: standing (a suspended or ended partner's outlets post nothing,
an ended store's members keep their points everywhere else), contract versions, statements that
reconcile with the ledger, closing a period for good, late corrections in the next period, and
the API's answers to bad input."""
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from lps_core.audit.services import SYSTEM
from lps_core.earning.programme import Programme
from lps_core.earning.services import EarnRequest, OutletContext, earn_points_for_bill, reverse_bill
from lps_core.errors import Conflict
from lps_core.ledger.check import find_drift
from lps_core.ledger.models import LedgerEntry
from lps_core.outlets.models import Outlet
from lps_core.partners import services, statements
from lps_core.partners.models import PartnerStatementLine
from lps_core.partners.services import NewOutlet, NewPartner, Terms

UTC = timezone.utc


@pytest.fixture
def programme():
    return Programme.from_settings({"lps.rules.cache_seconds": "0", "lps.postings.max_backdate_days": "400"})


@pytest.fixture
def store(seed, programme):
    """Franchise store FR with outlet FR1 (1 point per 1.00), joined in 2020, priced since then."""
    services.create_partner(seed.db, seed.plugins, programme.timezone, NewPartner(
        "FR", "Franchise Store", "franchise", date(2020, 1, 1), None,
        (NewOutlet("FR1", "Store counter", "base_rate", {}),)), actor=SYSTEM)
    services.add_contract(seed.db, "FR", Terms(date(2020, 1, 1), Decimal("0.01"), Decimal("0.008"), Decimal("1")),
                          date.today(), actor=SYSTEM)
    seed.db.commit()
    return seed.db.scalar(select(Outlet).where(Outlet.code == "FR1"))


def earn(seed, programme, outlet_code, card_no, bill_no, amount_cents, at):
    outlet_id = seed.db.scalar(select(Outlet.id).where(Outlet.code == outlet_code))
    earned = earn_points_for_bill(seed.db, seed.plugins, programme, OutletContext(outlet_id, outlet_code),
                                  EarnRequest(card_no, bill_no, amount_cents, at, ()))
    seed.db.commit()
    return earned


def ledger_sum(db, outlet_id, start, end):
    """The ledger's own sum of earn entries and their reversals at an outlet in [start, end)."""
    earn_ids = select(LedgerEntry.id).where(LedgerEntry.kind == "earn", LedgerEntry.outlet_id == outlet_id)
    return int(db.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
        (LedgerEntry.id.in_(earn_ids)) | (LedgerEntry.reverses_id.in_(earn_ids)),
        LedgerEntry.occurred_at >= start, LedgerEntry.occurred_at < end)))


def test_a_statement_reconciles_with_the_ledger_and_a_closed_period_never_changes(seed, programme, store):
    tz = programme.timezone
    card_no = seed.member_card()
    now = datetime.now(UTC)
    last_month = statements.Period.month((now.astimezone(tz).replace(day=1) - timedelta(days=1)).strftime("%Y-%m"))
    start, end = last_month.bounds(tz)
    bill = earn(seed, programme, "FR1", card_no, "F-1", 12_000, start + timedelta(days=2))
    earn(seed, programme, "FR1", card_no, "F-2", 3_050, start + timedelta(days=3))
    earn(seed, programme, "REST", card_no, "R-1", 50_000, start + timedelta(days=3))  # the hotel's: not the store's
    reverse_bill(seed.db, seed.plugins, OutletContext(store.id, "FR1"), bill.id, amount_cents=2_000, refund_no="P1")
    seed.db.commit()

    partner = services.get_partner(seed.db, "FR")
    before_close = statements.statement_for(seed.db, tz, partner, last_month)
    assert [(line.kind, line.points, str(line.amount)) for line in before_close.lines] == [
        ("earn", 120, "1.20"), ("earn", 30, "0.30")]  # the refund is dated today, in this month
    assert before_close.points_issued == ledger_sum(seed.db, store.id, start, end) == 150
    assert str(before_close.net) == "1.50"

    with pytest.raises(Conflict) as early:  # the first statement must hold everything before it
        statements.close_period(seed.db, tz, "FR", statements.Period.month(now.strftime("%Y-%m")), date(2100, 1, 1),
                                actor=SYSTEM)
    assert "period" in early.value.fields
    seed.db.rollback()
    closed, already = statements.close_period(seed.db, tz, "FR", last_month, now.astimezone(tz).date(), actor=SYSTEM)
    seed.db.commit()
    assert not already and closed.closed.net == Decimal("1.50")

    # A back-dated bill inside the closed month, recorded after the close: the closed statement stays
    # as it was, and the bill goes on the next period's statement as an adjustment line.
    late = earn(seed, programme, "FR1", card_no, "F-LATE", 1_000, start + timedelta(days=10))
    services.add_adjustment(seed.db, "FR", "to_partner", Decimal("4.00"), "a voucher we owe them", actor=SYSTEM)
    seed.db.commit()
    again = statements.statement_for(seed.db, tz, partner, last_month)
    assert again.closed is not None and [line.points for line in again.lines] == [120, 30]
    this_month = statements.Period(last_month.end, statements.Period.month(now.astimezone(tz).strftime("%Y-%m")).end)
    following = statements.statement_for(seed.db, tz, partner, this_month)
    assert [(line.kind, line.points, line.late, str(line.amount)) for line in following.lines] == [
        ("earn_reversal", -20, False, "-0.20"), ("earn", 10, True, "0.10"), ("adjustment", 0, True, "4.00")]
    assert following.lines[1].reference == f"earn:{store.id}:F-LATE" and late.points == 10
    assert str(following.net) == str(Decimal("-0.20") + Decimal("0.10") - Decimal("4.00"))
    with pytest.raises(Conflict):  # periods close in order, and not before they end
        statements.close_period(seed.db, tz, "FR", this_month, now.astimezone(tz).date(), actor=SYSTEM)
    seed.db.rollback()
    assert seed.db.scalar(select(func.count()).select_from(PartnerStatementLine)) == 2
    assert find_drift(seed.db) == []


def test_a_suspended_partner_posts_nothing_and_an_ended_stores_points_stay_valid(testapp, seed, programme, store):
    card_no = seed.member_card()
    key = {"Authorization": f"Bearer {seed.api_key('FR1')}"}
    hq = {"Authorization": f"Bearer {seed.api_key('REST', scopes=['partners.manage'])}"}
    testapp.post_json("/api/v1/transactions", {"card_no": card_no, "bill_no": "S-1", "amount": "200.00"},
                      headers=key, status=201)
    assert testapp.post_json("/api/v1/partners/FR/suspend", {"reason": "unpaid statement"}, headers=hq).json[
        "status"] == "suspended"
    for path, body in (("/api/v1/transactions", {"card_no": card_no, "bill_no": "S-2", "amount": "10.00"}),
                       ("/api/v1/settlements", {"card_no": card_no, "bill_no": "S-3", "amount": "1.00",
                                                "tenders": [{"kind": "points", "amount": "1.00"}]})):
        refused = testapp.post_json(path, body, headers=key, status=422).json
        assert refused["fields"] == {"outlet": "FR1: partner FR is suspended"}
    testapp.get(f"/api/v1/cards/{card_no}", headers=key, status=200)  # reading is still allowed
    testapp.post_json("/api/v1/partners/FR/reactivate", {}, headers=hq, status=200)
    testapp.post_json("/api/v1/transactions", {"card_no": card_no, "bill_no": "S-2", "amount": "10.00"},
                      headers=key, status=201)

    assert testapp.post("/api/v1/partners/FR/end", headers=hq).json["status"] == "ended"
    assert testapp.post("/api/v1/partners/FR/reactivate", headers=hq, status=409).json["fields"] == {
        "status": "is ended"}
    testapp.post_json("/api/v1/transactions", {"card_no": card_no, "bill_no": "S-4", "amount": "10.00"},
                      headers=key, status=422)
    # The store's history stays, and its points are spent at the hotel.
    rest = {"Authorization": f"Bearer {seed.api_key('REST')}"}
    paid = testapp.post_json("/api/v1/settlements", {"card_no": card_no, "bill_no": "H-1", "amount": "2.10",
                                                     "tenders": [{"kind": "points", "amount": "2.10"}]},
                             headers=rest, status=201).json
    assert paid["balances"]["points"] == 200 + 10 - 210
    statement = testapp.get(f"/api/v1/partners/FR/statement?period={date.today():%Y-%m}", headers=hq).json
    assert [line["points"] for line in statement["lines"]] == [200, 10]
    seed.db.rollback()
    assert find_drift(seed.db) == []


def test_contract_versions_in_force_never_change(testapp, seed, store):
    hq = {"Authorization": f"Bearer {seed.api_key('REST', scopes=['partners.manage'])}"}
    url = "/api/v1/partners/FR/contracts"
    terms = {"issue_cost_per_point": "0.02", "redeem_value_per_point": "0.01"}
    past = testapp.post_json(url, {**terms, "effective_from": "2021-01-01"}, headers=hq, status=409).json
    assert "effective_from" in past["fields"]
    later = (date.today() + timedelta(days=30)).isoformat()
    made = testapp.post_json(url, {**terms, "effective_from": later, "cobrand_share": "0.25"}, headers=hq,
                             status=201).json
    assert (made["effective_from"], made["cobrand_share"]) == (later, "0.25")
    testapp.post_json(url, {**terms, "effective_from": later}, headers=hq, status=409)
    in_force, pending = services.contracts_of(seed.db, store.property_id)
    with pytest.raises(Conflict) as refused:
        services.withdraw_contract(seed.db, "FR", in_force.id, date.today(), actor=SYSTEM)
    assert refused.value.fields == {"effective_from": "this version is in force"}
    services.withdraw_contract(seed.db, "FR", pending.id, date.today(), actor=SYSTEM)
    assert [c.id for c in services.contracts_of(seed.db, store.property_id)] == [in_force.id]


@pytest.mark.parametrize("body, field", [
    ({"code": "X", "name": "X", "kind": "hotel"}, "kind"),
    ({"code": "bad code", "name": "X"}, "code"),
    ({"code": "X", "name": "X", "outlets": [{"code": "REST", "name": "taken"}]}, "outlets[0].code"),
    ({"code": "X", "name": "X", "exchange_component": "no_such_exchange"}, "exchange_component"),
])
def test_bad_partner_input_is_refused_naming_the_field(testapp, seed, body, field):
    hq = {"Authorization": f"Bearer {seed.api_key('REST', scopes=['partners.manage'])}"}
    answer = testapp.post_json("/api/v1/partners", body, headers=hq, expect_errors=True)
    assert 400 <= answer.status_code < 500 and field in answer.json["fields"]


@pytest.mark.parametrize("query, field", [("period=2026-13", "period"), ("from=2026-11-05&to=2026-11-01", "to"),
                                          ("", "period"), ("period=2026-11&format=pdf", "format")])
def test_bad_statement_queries_are_refused_naming_the_field(testapp, seed, store, query, field):
    hq = {"Authorization": f"Bearer {seed.api_key('REST', scopes=['partners.manage'])}"}
    answer = testapp.get(f"/api/v1/partners/FR/statement?{query}", headers=hq, expect_errors=True)
    assert answer.status_code in (400, 422) and field in answer.json["fields"]
    assert testapp.get("/api/v1/partners/NOPE/statement?period=2026-11", headers=hq, status=404).json["fields"] == {
        "partner": "no such partner"}


def test_the_statement_exports_as_csv_and_xlsx(testapp, seed, store):
    import io

    from openpyxl import load_workbook

    hq = {"Authorization": f"Bearer {seed.api_key('REST', scopes=['partners.manage'])}"}
    key = {"Authorization": f"Bearer {seed.api_key('FR1')}"}
    testapp.post_json("/api/v1/transactions", {"card_no": seed.member_card(), "bill_no": "E-1", "amount": "77.00"},
                      headers=key, status=201)
    url = f"/api/v1/partners/FR/statement?period={date.today():%Y-%m}"
    csv_text = testapp.get(url + "&format=csv", headers=hq).body.decode("utf-8-sig")
    assert csv_text.splitlines()[2].endswith(",0.77") and ",earn,False," in csv_text
    book = load_workbook(io.BytesIO(testapp.get(url + "&format=xlsx", headers=hq).body))
    totals = list(book["Totals"].iter_rows(values_only=True))
    assert ("net", Decimal("0.77")) == (totals[0][-1], Decimal(str(totals[1][-1])))
    rows = list(book["Lines"].iter_rows(values_only=True))
    assert rows[-1][1] == "earn" and rows[-1][7] == 77


def test_a_partner_whose_outlet_names_no_installed_formula_is_refused_whole(testapp, seed):
    hq = {"Authorization": f"Bearer {seed.api_key('REST', scopes=['partners.manage'])}"}
    refused = testapp.post_json("/api/v1/partners", {"code": "NOFORM", "name": "No formula", "outlets": [
        {"code": "NF1", "name": "Counter", "formula": "no_such_formula"}]}, headers=hq, status=422).json
    assert refused["fields"]
    assert testapp.get("/api/v1/partners/NOFORM", headers=hq, status=404).json["fields"] == {
        "partner": "no such partner"}
    far = testapp.post_json("/api/v1/partners/NOPE/contracts", {
        "effective_from": "2101-01-01", "issue_cost_per_point": "0.01", "redeem_value_per_point": "0.01"},
        headers=hq, status=422).json
    assert "effective_from" in far["fields"]


def test_a_period_before_the_last_close_is_only_a_closed_statement(seed, programme, store):
    tz = programme.timezone
    today = datetime.now(UTC).astimezone(tz).date()
    closed = statements.Period.of(date(2020, 1, 1), date(2020, 1, 31))
    statements.close_period(seed.db, tz, "FR", closed, today, actor=SYSTEM)
    partner = services.get_partner(seed.db, "FR")
    assert statements.statement_for(seed.db, tz, partner, closed).closed is not None
    for period in (statements.Period.of(date(2020, 1, 15), date(2020, 2, 15)), statements.Period.month("2019-12")):
        with pytest.raises(Conflict) as refused:
            statements.statement_for(seed.db, tz, partner, period)
        assert refused.value.fields == {"period": "must start on 2020-02-01 or later"}
    assert statements.close_period(seed.db, tz, "FR", closed, today, actor=SYSTEM)[1]  # closing again answers it


def test_points_paid_at_a_partner_less_what_refunds_gave_back(testapp, seed, store):
    card_no = seed.member_card()
    key = {"Authorization": f"Bearer {seed.api_key('FR1')}"}
    hq = {"Authorization": f"Bearer {seed.api_key('REST', scopes=['partners.manage'])}"}
    testapp.post_json("/api/v1/transactions", {"card_no": card_no, "bill_no": "P-0", "amount": "500.00"},
                      headers=key, status=201)
    paid = testapp.post_json("/api/v1/settlements", {"card_no": card_no, "bill_no": "P-1", "amount": "3.00",
                                                     "tenders": [{"kind": "points", "amount": "3.00"}]},
                             headers=key, status=201).json
    testapp.post_json(f"/api/v1/settlements/{paid['id']}/refunds", {"refund_no": "R1", "amount": "1.00"},
                      headers=key, status=201)
    lines = testapp.get(f"/api/v1/partners/FR/statement?period={date.today():%Y-%m}", headers=hq).json["lines"]
    assert [(line["kind"], line["points"], line["direction"], line["amount"]) for line in lines] == [
        ("earn", 500, "from_partner", "5.00"), ("payment", 300, "to_partner", "2.40"),
        ("payment_refund", -100, "to_partner", "-0.80")]
    seed.db.rollback()
    paid_back = seed.db.scalar(select(func.sum(LedgerEntry.amount)).where(
        LedgerEntry.outlet_id == store.id, LedgerEntry.kind.in_(("payment", "reversal"))))
    assert -paid_back == 300 - 100
