"""The seed's alliance scenario, end to end through the API: a member earns at the hotel's
restaurant and at a partner bakery, pays part of a bakery bill with points, converts points to
airline miles (and miles back) through the airline's file batch, one transfer is reversed; then
the month's statements of the bakery and of the airline come out exactly right, line by line, and
the ledger check passes."""
import hashlib
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from webtest import TestApp

from lps_core.ledger.check import find_drift
from lps_core.ledger.models import Account
from lps_core.outlets.models import Outlet
from lps_core.partners.models import PartnerBenefitCost
from lps_core.cards.models import Card
from lps_core.plugins.switches import set_switch
from lps_core.settings import settings_of
from lps_core.testing import TEST_SETTINGS
from lps_core.timeutil import utcnow


def airline_writes(inbox, name, text):
    """A file the airline leaves in its inbox, listed with its SHA-256 in the manifest."""
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / name).write_text(text)
    with open(inbox / "MANIFEST.sha256", "a") as manifest:
        manifest.write(f"{hashlib.sha256(text.encode()).hexdigest()}  {name}\n")


@pytest.fixture
def alliance(seed, database_url, tmp_path):
    from lps_core import main

    folders = {"lps.airline_miles.outbox": str(tmp_path / "outbox"), "lps.airline_miles.inbox": str(tmp_path / "inbox")}
    wsgi = main({}, **{**TEST_SETTINGS, "lps.api.key_cache_seconds": "0", "lps.rules.cache_seconds": "0",
                       "sqlalchemy.url": database_url, **folders})
    yield TestApp(wsgi), tmp_path / "inbox"
    wsgi.registry["db_engine"].dispose()


def bearer(key):
    return {"Authorization": f"Bearer {key}"}


def test_the_alliance_month_settles_exactly(seed, alliance):
    app, inbox = alliance
    db = seed.db
    tz = settings_of({}).timezone
    today = utcnow().astimezone(tz).date()
    month = today.strftime("%Y-%m")
    first = date(today.year, today.month, 1).isoformat()
    hq = bearer(seed.api_key("REST", scopes=["partners.manage"]))

    # Headquarters signs up the bakery (one outlet) and the airline (its programme, through the file adapter).
    bakery = app.post_json("/api/v1/partners", {
        "code": "BAKERY", "name": "Golden Crust Bakery", "kind": "partner", "joined_on": first,
        "outlets": [{"code": "BAK1", "name": "Bakery on Main Street", "formula": "base_rate"}]}, headers=hq,
        status=201).json
    assert (bakery["status"], [o["code"] for o in bakery["outlets"]]) == ("active", ["BAK1"])
    app.post_json("/api/v1/partners", {"code": "AIR", "name": "Sky Airline", "exchange_component": "airline_miles"},
                  headers=hq, status=201)
    app.post_json("/api/v1/partners/BAKERY/contracts", {
        "effective_from": first, "issue_cost_per_point": "0.01", "redeem_value_per_point": "0.008",
        "cobrand_share": "0.5"}, headers=hq, status=201)
    app.post_json("/api/v1/partners/AIR/contracts", {
        "effective_from": first, "issue_cost_per_point": "0.012", "redeem_value_per_point": "0.005"},
        headers=hq, status=201)

    # 1. The member earns at the hotel's restaurant and at the bakery, and pays part of a bakery bill with points.
    card_no = seed.member_card("Zhao Min")
    rest, bak = bearer(seed.api_key("REST")), bearer(seed.api_key("BAK1"))
    assert app.post_json("/api/v1/transactions", {"card_no": card_no, "bill_no": "R-1", "amount": "300.00"},
                         headers=rest, status=201).json["points"] == 300
    assert app.post_json("/api/v1/transactions", {"card_no": card_no, "bill_no": "B-1", "amount": "88.50"},
                         headers=bak, status=201).json["points"] == 88
    settled = app.post_json("/api/v1/settlements", {
        "card_no": card_no, "bill_no": "B-2", "items": [{"sku": "CAKE", "category": "food", "qty": "1",
                                                         "amount": "40.00"}],
        "tenders": [{"kind": "points", "amount": "2.00"}, {"kind": "cash", "amount": "38.00"}]},
        headers=bak, status=201).json
    assert settled["points"] == 38 and settled["balances"]["points"] == 300 + 88 - 200 + 38

    # 2. Points to airline miles through the file batch; the airline confirms; one transfer is reversed;
    #    and 200 miles come back in as 100 points.
    rest_id = db.scalar(select(Outlet.id).where(Outlet.code == "REST"))
    set_switch(db, seed.plugins, kind="exchange", name="airline_miles", scope="outlet", scope_id=rest_id,
               enabled=True, settings={"miles_per_point": 2, "minimum": 100, "step": 100})
    db.commit()
    miles = bearer(seed.api_key("REST", scopes=["exchange"]))
    url = "/api/v1/exchanges/airline_miles/transfers"

    def transfer(reference, direction, points):
        return {"direction": direction, "card_no": card_no, "points": points, "reference": reference,
                "partner_member_no": "AM1234567"}

    for reference in ("AM-1", "AM-2"):
        assert app.post_json(url, transfer(reference, "out", 100), headers=miles, status=202).json["status"] == "pending"
    assert app.post_json(url, transfer("AM-3", "in", 200), headers=miles, status=202).json["status"] == "pending"
    airline_writes(inbox, "CONF-1.csv", "action,reference,status,miles,airline_reference,reason\n"
                                        "credit,AM-1,accepted,200,AX-1,\ncredit,AM-2,accepted,200,AX-2,\n"
                                        "debit,AM-3,accepted,200,AX-3,\n")
    for reference, direction, points in (("AM-1", "out", 100), ("AM-2", "out", 100), ("AM-3", "in", 200)):
        assert app.post_json(url, transfer(reference, direction, points), headers=miles).json["status"] == "done"
    assert app.post(url + "/AM-2/reversal?direction=out", headers=miles, status=202).json["reversal_pending"]
    airline_writes(inbox, "CONF-2.csv", "action,reference,status,miles,airline_reference,reason\n"
                                        "reverse_credit,AM-2,accepted,200,AX-2R,\n")
    assert app.post(url + "/AM-2/reversal?direction=out", headers=miles).json["status"] == "reversed"
    db.commit()  # a new snapshot: the app committed meanwhile
    assert db.scalar(select(Account.balance).where(Account.id == seed.points_account(card_no))) == 226 - 200 + 100 + 100

    # A co-branded card's benefits the bakery funds, as the cards feature records them.
    card = db.scalar(select(Card).where(Card.card_no == card_no))
    bakery_id = db.scalar(select(Outlet.property_id).where(Outlet.code == "BAK1"))
    db.add_all([
        PartnerBenefitCost(key="settlement:test:discount", property_id=bakery_id, card_id=card.id,
                           member_id=card.member_id, outlet_id=rest_id, kind="discount", amount=Decimal("5.00"),
                           points=0, occurred_at=utcnow()),
        PartnerBenefitCost(key="bill:test:points", property_id=bakery_id, card_id=card.id, member_id=card.member_id,
                           outlet_id=rest_id, kind="points", amount=Decimal("0"), points=40, occurred_at=utcnow())])
    db.commit()

    # 3. The month's statements.
    bakery_month = app.get(f"/api/v1/partners/BAKERY/statement?period={month}", headers=hq).json
    assert [(line["kind"], line["outlet"], line["points"], line["direction"], line["amount"])
            for line in bakery_month["lines"]] == [
        ("earn", "BAK1", 88, "from_partner", "0.88"),
        ("payment", "BAK1", 200, "to_partner", "1.60"),
        ("earn", "BAK1", 38, "from_partner", "0.38"),
        ("benefit", "REST", 0, "from_partner", "2.50"),
        ("benefit", "REST", 40, "from_partner", "0.20")]
    assert {name: bakery_month[name] for name in ("status", "points_issued", "points_redeemed", "benefit_cost",
                                                  "due_from_partner", "due_to_partner", "net")} == {
        "status": "open", "points_issued": 126, "points_redeemed": 200, "benefit_cost": "2.70",
        "due_from_partner": "3.96", "due_to_partner": "1.60", "net": "2.36"}
    assert [line["reference"] for line in bakery_month["lines"][:3]] == [
        f"earn:{_outlet_id(db, 'BAK1')}:B-1",
        f"settle:{_outlet_id(db, 'BAK1')}:B-2:0", f"earn:{_outlet_id(db, 'BAK1')}:B-2"]

    airline_month = app.get(f"/api/v1/partners/AIR/statement?period={month}", headers=hq).json
    assert [(line["kind"], line["reference"], line["points"], line["price"], line["direction"], line["amount"])
            for line in airline_month["lines"]] == [
        ("exchange_out", "exchange:airline_miles:out:AM-1", 100, "0.005000", "to_partner", "0.50"),
        ("exchange_out", "exchange:airline_miles:out:AM-2", 100, "0.005000", "to_partner", "0.50"),
        ("exchange_in", "exchange:airline_miles:in:AM-3", 100, "0.012000", "from_partner", "1.20"),
        ("exchange_out_reversal", "exchange:airline_miles:out:AM-2:reversal", -100, "0.005000", "to_partner",
         "-0.50")]
    assert {name: airline_month[name] for name in ("points_issued", "points_redeemed", "benefit_cost",
                                                   "due_from_partner", "due_to_partner", "net")} == {
        "points_issued": 100, "points_redeemed": 100, "benefit_cost": "0.00", "due_from_partner": "1.20",
        "due_to_partner": "0.50", "net": "0.70"}

    # The restaurant's points are on no partner's statement, and the ledger holds together.
    assert all(line["outlet"] != "REST" or line["kind"] == "benefit" for line in bakery_month["lines"])
    db.rollback()
    assert find_drift(db) == []


def _outlet_id(db, code):
    return db.scalar(select(Outlet.id).where(Outlet.code == code))
