"""Tenders as plugins: every built-in tender settles and refunds through the API, points pay at the
outlet's rate and come back pro rata, a tender switched off at an outlet is refused there only, an
unknown kind is refused by name, the desk offers what is on at its outlet, and the ledger never
drifts."""
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from pyramid.registry import Registry
from sqlalchemy import insert, select

from lps_core.builtin.tenders import PointsTender, PointsTenderSettings, lps_tenders
from lps_core.cards.models import CardType
from lps_core.cashier import name_the_tenders
from lps_core.components import ILabels, IPlugins
from lps_core.contract import ITender
from lps_core.labels import LABELS, Labels
from lps_core.ledger.check import find_drift
from lps_core.ledger.models import Account, LedgerEntry, PointLot
from lps_core.outlets.models import Outlet
from lps_core.plugins.switches import set_switch
from lps_core.testing import sign_in_as
from lps_core.timeutil import utcnow


@pytest.fixture
def rest(seed):
    return {"Authorization": f"Bearer {seed.api_key('REST')}"}


@pytest.fixture
def spa(seed):
    return {"Authorization": f"Bearer {seed.api_key('SPA')}"}


@pytest.fixture
def products(seed):
    """A prepaid card (stored value with a bonus step, a credit line of 1000.00) and a spa count card."""
    seed.db.execute(insert(CardType), [
        {"code": "prepaid", "name": "Prepaid", "prefix": "8801", "stored_value": True,
         "deposit_bonuses": [{"min_deposit": "1000.00", "bonus": "100.00"}], "credit_limit_cents": 100000,
         "credit_warning_ratio": Decimal("0.8")},
        {"code": "spa10", "name": "Spa 10", "prefix": "8802", "initial_uses": 0, "uses_outlets": ["SPA"]},
    ])
    seed.db.commit()


def settle(testapp, auth, card_no, tenders, bill_no="B1", amount="100.00", status=201):
    body = {"card_no": card_no, "bill_no": bill_no, "amount": amount, "tenders": tenders}
    return testapp.post_json("/api/v1/settlements", body, headers=auth, status=status).json


def refund(testapp, auth, settlement_id, amount=None, refund_no=None, status=201):
    body = {"amount": amount, "refund_no": refund_no} if amount else {}
    return testapp.post_json(f"/api/v1/settlements/{settlement_id}/refunds", body, headers=auth, status=status).json


def card_with(seed, card_type):
    from lps_core.members.services import Enrolment, approve_member, enrol_member

    member_id = enrol_member(seed.db, Enrolment(name="Tender Guest", channel="desk", phone="+8613800000001"),
                             force_duplicate_phone=True)
    card_no = approve_member(seed.db, member_id, card_type_code=card_type)
    seed.db.commit()
    return card_no


def points_of(seed, card_no):
    seed.db.rollback()  # see what the app committed since
    return seed.db.scalar(select(Account.balance).where(Account.id == seed.points_account(card_no)))


def earn(testapp, auth, card_no, amount, bill_no="EARN"):
    """Points to pay with: a cash bill at REST earns 1 point per 1.00."""
    settle(testapp, auth, card_no, [{"kind": "cash", "amount": amount}], bill_no=bill_no, amount=amount)


def switch(seed, name, outlet, enabled=True, settings=None):
    """A tender on or off at one outlet, with its settings, as the configuration screens set it."""
    outlet_id = seed.db.scalar(select(Outlet.id).where(Outlet.code == outlet))
    set_switch(seed.db, seed.plugins, kind="tender", name=name, scope="outlet", scope_id=outlet_id, enabled=enabled,
               settings=settings)
    seed.db.commit()


# -- the built-in tenders --------------------------------------------------------------------------

def test_lps_provides_its_tenders_through_its_own_hook(plugins):
    provided = {tender.name: tender for tender in lps_tenders({}, None)}
    assert list(provided) == ["cash", "bank_card", "stored_value", "credit", "uses", "voucher", "other", "points"]
    assert "bonus_value" not in provided  # stored_value pays bonus value in its share (see the module)
    for name, tender in provided.items():
        assert ITender.providedBy(tender)
        component = plugins.component("tender", name)
        assert (component.plugin, component.distribution) == ("lps_tenders", "lps")
    assert [name for name, tender in provided.items() if tender.moves_card_account] == [
        "stored_value", "credit", "uses", "points"]
    assert [name for name, tender in provided.items() if tender.needs_pin] == ["stored_value", "credit"]
    assert [name for name, tender in provided.items() if not tender.earns_points(None)] == ["uses", "voucher", "points"]


@pytest.mark.parametrize("kind", ["cash", "bank_card", "other"])
def test_a_recorded_tender_earns_and_refunds_with_its_reference(testapp, seed, rest, kind):
    card_no = seed.member_card()
    doc = settle(testapp, rest, card_no, [{"kind": kind, "amount": "100.00", "reference": "SLIP-9"}])
    assert (doc["tenders"][0]["kind"], doc["tenders"][0]["reference"], doc["points"]) == (kind, "SLIP-9", 100)
    back = refund(testapp, rest, doc["id"])
    assert back["tenders"] == [{"kind": kind, "amount": "100.00"}] and back["points"] == 100
    assert find_drift(seed.db) == []


def test_stored_value_pays_from_deposit_and_bonus_and_the_bonus_part_earns_nothing(testapp, seed, rest, products):
    card_no = card_with(seed, "prepaid")
    testapp.post_json(f"/api/v1/cards/{card_no}/deposits", {"deposit_no": "D1", "amount": "1000.00",
                                                            "tender": "cash"}, headers=rest, status=201)
    doc = settle(testapp, rest, card_no, [{"kind": "stored_value", "amount": "110.00"}], amount="110.00")
    assert (doc["tenders"][0]["principal"], doc["tenders"][0]["bonus"]) == ("100.00", "10.00")
    assert (doc["earning_basis"], doc["points"]) == ("100.00", 100)
    back = refund(testapp, rest, doc["id"])
    assert (back["tenders"][0]["principal"], back["tenders"][0]["bonus"]) == ("100.00", "10.00")
    assert find_drift(seed.db) == []


def test_credit_is_charged_and_a_refund_un_owes_it(testapp, seed, rest, products):
    card_no = card_with(seed, "prepaid")
    doc = settle(testapp, rest, card_no, [{"kind": "credit", "amount": "100.00"}])
    assert doc["balances"]["credit_used"] == "100.00" and doc["points"] == 100
    back = refund(testapp, rest, doc["id"])
    assert (back["tenders"][0]["to_credit"], back["tenders"][0]["to_cash"]) == ("100.00", "0.00")
    assert find_drift(seed.db) == []


def test_uses_pay_without_points_and_come_back(testapp, seed, spa, products):
    card_no = card_with(seed, "spa10")
    testapp.post_json(f"/api/v1/cards/{card_no}/uses", {"topup_no": "T1", "uses": 3, "tender": "cash"},
                      headers=spa, status=201)
    doc = settle(testapp, spa, card_no, [{"kind": "uses", "uses": 2, "amount": "100.00"}])
    assert (doc["balances"]["uses"], doc["points"]) == (1, 0)
    back = refund(testapp, spa, doc["id"])
    assert back["tenders"][0]["uses"] == 2
    assert find_drift(seed.db) == []


def test_a_voucher_is_spent_and_reinstated_by_the_refund_of_its_whole_tender(testapp, seed, rest):
    card_no = seed.member_card()
    code = testapp.post_json("/api/v1/vouchers", {"value": "50.00", "valid_to": (utcnow() + timedelta(days=30))
                                                  .isoformat()}, headers=rest, status=201).json["vouchers"][0]["code"]
    doc = settle(testapp, rest, card_no, [{"kind": "voucher", "amount": "50.00", "reference": code.lower()},
                                          {"kind": "cash", "amount": "50.00"}])
    assert (doc["tenders"][0]["reference"], doc["earning_basis"]) == (code, "50.00")
    back = refund(testapp, rest, doc["id"])
    assert back["tenders"][0]["voucher_reinstated"] is True
    assert find_drift(seed.db) == []


# -- points as payment -----------------------------------------------------------------------------

def test_points_pay_at_the_programmes_rate_earn_nothing_and_come_back_pro_rata(testapp, seed, rest):
    card_no = seed.member_card()
    earn(testapp, rest, card_no, "1000.00")
    # 5.00 at 100 points per 1.00 is 500 points; the 95.00 in cash earns 95.
    doc = settle(testapp, rest, card_no, [{"kind": "points", "amount": "5.00"}, {"kind": "cash", "amount": "95.00"}])
    assert doc["tenders"][0]["details"] == {"points": 500, "points_per_currency_unit": 100}
    assert (doc["earning_basis"], doc["points"], doc["balances"]["points"]) == ("95.00", 95, 595)
    seed.db.rollback()
    paid = seed.db.scalars(select(LedgerEntry).where(LedgerEntry.kind == "payment")).one()
    assert (paid.amount, paid.account_id) == (-500, seed.points_account(card_no))

    half = refund(testapp, rest, doc["id"], amount="50.00", refund_no="R1")
    assert half["tenders"][0] == {"kind": "points", "amount": "2.50", "points": 250}
    rest_of_it = refund(testapp, rest, doc["id"])
    assert rest_of_it["tenders"][0] == {"kind": "points", "amount": "2.50", "points": 250}
    assert points_of(seed, card_no) == 1000  # every paid point back, every earned one taken back
    assert find_drift(seed.db) == []


def test_an_outlet_sets_its_own_rate_and_a_part_of_a_point_is_rounded_up(testapp, seed, rest, spa):
    card_no = seed.member_card()
    earn(testapp, rest, card_no, "1000.00")
    switch(seed, "points", "SPA", settings={"points_per_currency_unit": 30})
    doc = settle(testapp, spa, card_no, [{"kind": "points", "amount": "10.01"}], amount="10.01")
    assert doc["tenders"][0]["details"] == {"points": 301, "points_per_currency_unit": 30}  # 300.3 rounded up
    assert doc["points"] == 0 and doc["balances"]["points"] == 1000 - 301
    doc = settle(testapp, rest, card_no, [{"kind": "points", "amount": "1.00"}], bill_no="B2", amount="1.00")
    assert doc["tenders"][0]["details"]["points"] == 100  # REST keeps the programme's rate
    assert find_drift(seed.db) == []


def test_points_spend_the_oldest_expiring_lots_first_and_go_back_to_them(testapp, seed, rest):
    card_no = seed.member_card()
    earn(testapp, rest, card_no, "3.00", bill_no="E1")
    earn(testapp, rest, card_no, "4.00", bill_no="E2")
    account_id = seed.points_account(card_no)
    lots = seed.db.execute(select(PointLot.id, PointLot.expires_at).where(PointLot.account_id == account_id)
                           .order_by(PointLot.id)).all()
    seed.db.execute(PointLot.__table__.update().where(PointLot.id == lots[1].id)
                    .values(expires_at=lots[0].expires_at - timedelta(days=1)))  # the later lot expires first
    seed.db.commit()
    doc = settle(testapp, rest, card_no, [{"kind": "points", "amount": "0.05"}], amount="0.05")
    seed.db.rollback()
    remaining = dict(seed.db.execute(select(PointLot.id, PointLot.remaining)
                                     .where(PointLot.account_id == account_id)).all())
    assert (remaining[lots[0].id], remaining[lots[1].id]) == (2, 0)  # 5 points: the 4 of E2 first, then 1 of E1
    assert doc["balances"]["points"] == 2
    refund(testapp, rest, doc["id"])
    seed.db.rollback()
    remaining = dict(seed.db.execute(select(PointLot.id, PointLot.remaining)
                                     .where(PointLot.account_id == account_id)).all())
    assert (remaining[lots[0].id], remaining[lots[1].id]) == (3, 4)
    assert find_drift(seed.db) == []


def test_too_few_points_are_refused_beside_the_tender_and_nothing_is_posted(testapp, seed, rest):
    card_no = seed.member_card()
    earn(testapp, rest, card_no, "3.00")
    seed.db.rollback()
    before = seed.db.scalar(select(LedgerEntry.id).order_by(LedgerEntry.id.desc()).limit(1))
    error = settle(testapp, rest, card_no, [{"kind": "cash", "amount": "96.00"}, {"kind": "points", "amount": "4.00"}],
                   status=409)
    assert error["fields"] == {"tenders[1]": "needs 400 points, the member has 3"}
    seed.db.rollback()
    assert seed.db.scalar(select(LedgerEntry.id).order_by(LedgerEntry.id.desc()).limit(1)) == before


def test_a_points_rate_is_checked_when_staff_set_it():
    assert PointsTenderSettings.model_validate({}).points_per_currency_unit is None
    assert PointsTender(100).points_for(1, PointsTenderSettings(points_per_currency_unit=1)) == 1  # 0.01 point
    with pytest.raises(Exception):
        PointsTenderSettings.model_validate({"points_per_currency_unit": 0})


# -- on or off per outlet, and unknown kinds ---------------------------------------------------------

def test_a_tender_switched_off_at_one_outlet_is_refused_there_and_taken_at_another(testapp, seed, rest, spa):
    switch(seed, "bank_card", "SPA", enabled=False)
    card_no = seed.member_card()
    refused = settle(testapp, spa, card_no, [{"kind": "cash", "amount": "50.00"},
                                             {"kind": "bank_card", "amount": "50.00"}], status=422)
    assert refused["fields"] == {"tenders[1]": "not available at outlet SPA"}
    assert settle(testapp, rest, card_no, [{"kind": "bank_card", "amount": "100.00"}])["points"] == 100
    assert find_drift(seed.db) == []


def test_a_refund_gives_back_a_tender_switched_off_since(testapp, seed, rest):
    card_no = seed.member_card()
    doc = settle(testapp, rest, card_no, [{"kind": "bank_card", "amount": "100.00"}])
    switch(seed, "bank_card", "REST", enabled=False)
    assert refund(testapp, rest, doc["id"])["tenders"] == [{"kind": "bank_card", "amount": "100.00"}]


@pytest.mark.parametrize("kind", ["room_charge", "CASH", "bonus_value"])
def test_a_kind_no_plugin_provides_is_refused_with_422_naming_the_line(testapp, seed, rest, kind):
    card_no = seed.member_card()
    error = settle(testapp, rest, card_no, [{"kind": "cash", "amount": "50.00"}, {"kind": kind, "amount": "50.00"}],
                   status=422)
    assert error["fields"] == {"tenders[1]": "no such tender"}


def test_the_document_describes_the_kind_as_an_open_code(testapp):
    document = testapp.get("/api/v1/openapi.json").json
    schemas = document["components"]["schemas"]
    kind = next(schema["properties"]["kind"] for name, schema in schemas.items()
                if name.startswith("TenderIn"))
    assert kind["type"] == "string" and "enum" not in kind and kind["maxLength"] == 64


# -- the desk ----------------------------------------------------------------------------------------

def test_the_desk_offers_the_tenders_on_at_its_outlet_with_their_labels(testapp, seed):
    switch(seed, "voucher", "REST", enabled=False)
    sign_in_as(testapp, seed, "tilly", "tender-pass-123", ("cashier",), ("REST",))
    page = testapp.get("/cashier", {"outlet": "REST", "card_no": seed.member_card()})
    options = [(option["value"], option.text.strip()) for option in page.html.select("#tender-0-kind option")]
    assert options[0] == ("cash", "Cash") and ("points", "Points") in options
    assert "voucher" not in dict(options)


def test_a_plugins_tender_is_named_by_its_own_label_unless_its_kind_has_one():
    registry, labels = Registry(), Labels()
    registry.registerUtility(labels, ILabels)
    registry.registerUtility(SimpleNamespace(tenders={"room_charge": SimpleNamespace(label="Room charge"),
                                                      "cash": SimpleNamespace(label="Money")}), IPlugins)
    name_the_tenders(registry)
    assert labels.get("tender", "room_charge") == "Room charge"
    assert labels.get("tender", "cash") == LABELS["tender"]["cash"]
