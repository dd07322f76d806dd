"""The cashier flow over HTTP: look-up, settle with each tender and their mixes, refunds, deposits,
top-ups and repayments; every failure posts nothing and the ledger never drifts."""
from decimal import Decimal

import pytest

from sqlalchemy import func, insert, select, update

from lps_core.cards.models import Card, CardType
from lps_core.cards.pins import hash_pin
from lps_core.cashier.models import Settlement
from lps_core.components import IPlugins
from lps_core.ledger.check import find_drift
from lps_core.ledger.models import LedgerEntry
from lps_core.members.models import Member, Tier
from lps_core.members.services import Enrolment, approve_member, enrol_member


@pytest.fixture
def auth(seed):
    return {"Authorization": f"Bearer {seed.api_key('REST')}"}


@pytest.fixture
def spa_auth(seed):
    return {"Authorization": f"Bearer {seed.api_key('SPA')}"}


@pytest.fixture
def products(seed):
    """A prepaid card (stored value with deposit bonuses, 10% off, 20% off drinks, a credit line of 1000.00)
    and a spa count card."""
    seed.db.execute(insert(CardType), [
        {"code": "prepaid", "name": "Prepaid", "prefix": "8801", "discount_rate": Decimal("0.1"),
         "discount_overrides": [{"category": "drinks", "rate": "0.2"}], "stored_value": True,
         "deposit_bonuses": [{"min_deposit": "1000.00", "bonus": "100.00"}, {"min_deposit": "500.00", "bonus": "40.00"}],
         "credit_limit_cents": 100000, "credit_warning_ratio": Decimal("0.8")},
        {"code": "spa10", "name": "Spa 10", "prefix": "8802", "initial_uses": 0, "uses_outlets": ["SPA"]},
    ])
    seed.db.commit()


def card_of(seed, name, card_type, tier=None, pin=None):
    member_id = enrol_member(seed.db, Enrolment(name=name, channel="desk", phone="+8613911112222"))
    card_no = approve_member(seed.db, member_id, card_type_code=card_type)
    if tier:
        seed.db.execute(update(Member).where(Member.id == member_id)
                        .values(tier_id=select(Tier.id).where(Tier.code == tier).scalar_subquery()))
    if pin:
        seed.db.execute(update(Card).where(Card.card_no == card_no).values(pin_hash=hash_pin(pin)))
    seed.db.commit()
    return card_no


def deposit(testapp, auth, card_no, amount, deposit_no="D1", status=201):
    return testapp.post_json(f"/api/v1/cards/{card_no}/deposits",
                             {"deposit_no": deposit_no, "amount": amount, "tender": "cash"},
                             headers=auth, status=status).json


def settle(testapp, auth, card_no, tenders, bill_no="B1", status=201, **body):
    body = {"card_no": card_no, "bill_no": bill_no, "tenders": tenders, **body}
    body.setdefault("items", [{"sku": "STEAK", "category": "food", "qty": "1", "amount": "100.00"}])
    return testapp.post_json("/api/v1/settlements", body, headers=auth, status=status).json


def entries(db):
    return db.scalar(select(func.count()).select_from(LedgerEntry))


def test_a_deposit_over_a_step_adds_its_bonus_value(testapp, auth, seed, products):
    card_no = card_of(seed, "Zhao Lei", "prepaid")
    answer = deposit(testapp, auth, card_no, "1000.00")
    assert answer["bonus"] == "100.00"
    assert answer["balances"]["stored_value"] == "1000.00"
    assert answer["balances"]["bonus_value"] == "100.00"
    assert deposit(testapp, auth, card_no, "600.00", "D2")["bonus"] == "40.00"
    assert deposit(testapp, auth, card_no, "100.00", "D3")["bonus"] == "0.00"
    replay = testapp.post_json(f"/api/v1/cards/{card_no}/deposits",
                               {"deposit_no": "D1", "amount": "1000.00", "tender": "cash"}, headers=auth, status=200).json
    assert replay["replayed"] and replay["bonus"] == "100.00"
    assert replay["balances"]["stored_value"] == "1700.00"
    conflict = deposit(testapp, auth, card_no, "999.00", "D1", status=409)
    assert conflict["fields"] == {"business_key": "already used with other content"}
    assert find_drift(seed.db) == []


def test_a_deposit_on_a_card_without_stored_value_is_refused(testapp, auth, seed):
    card_no = seed.member_card()
    assert deposit(testapp, auth, card_no, "10.00", status=422)["fields"] == {
        "card_no": "this card does not take deposits"}


def test_settling_with_stored_value_applies_the_discount_and_earns_on_money_paid(testapp, auth, seed, products):
    card_no = card_of(seed, "Zhao Lei", "prepaid")
    deposit(testapp, auth, card_no, "1000.00")  # 1000.00 deposit + 100.00 bonus value
    items = [{"sku": "STEAK", "category": "food", "qty": "1", "amount": "100.00"},
             {"sku": "WINE", "category": "drinks", "qty": "2", "amount": "50.00"}]
    # 100.00 at 10% off, 50.00 at 20% off: 90.00 + 40.00 = 130.00
    doc = settle(testapp, auth, card_no, [{"kind": "stored_value", "amount": "110.00"},
                                          {"kind": "cash", "amount": "20.00"}], items=items)
    assert (doc["gross"], doc["discount"], doc["charged"]) == ("150.00", "20.00", "130.00")
    assert [(i["discount_rate"], i["charged"]) for i in doc["items"]] == [("0.1", "90.00"), ("0.2", "40.00")]
    stored = doc["tenders"][0]
    # 110.00 taken from 1000.00 deposit and 100.00 bonus in proportion: 10.00 of it is bonus value
    assert (stored["principal"], stored["bonus"]) == ("100.00", "10.00")
    assert doc["earning_basis"] == "120.00"  # bonus value earns no points
    assert doc["points"] == 120
    assert doc["balances"] == {"stored_value": "900.00", "bonus_value": "90.00", "uses": None,
                               "credit_used": "0.00", "credit_limit": "1000.00", "credit_left": "1000.00",
                               "points": 120}
    assert doc["member"]["name"] == "Zhao Lei" and doc["card"]["type"] == "prepaid"
    assert find_drift(seed.db) == []


def test_the_better_of_tier_and_card_discount_applies(testapp, auth, seed, products):
    seed.db.execute(update(Tier).where(Tier.code == "gold").values(discount_rate=Decimal("0.15")))
    seed.db.commit()
    card_no = card_of(seed, "Gold Guest", "prepaid", tier="gold")
    doc = settle(testapp, auth, card_no, [{"kind": "cash", "amount": "85.00"}])
    assert doc["discount"] == "15.00" and doc["items"][0]["discount_rate"] == "0.15"
    assert doc["tier"]["code"] == "gold"


def test_settling_is_idempotent_on_outlet_and_bill_no(testapp, auth, seed, products):
    card_no = card_of(seed, "Zhao Lei", "prepaid")
    deposit(testapp, auth, card_no, "500.00")
    tenders = [{"kind": "stored_value", "amount": "90.00"}]
    first = settle(testapp, auth, card_no, tenders)
    count = entries(seed.db)
    seed.db.commit()
    again = settle(testapp, auth, card_no, tenders, status=200)
    assert again["replayed"] and again["id"] == first["id"]
    assert entries(seed.db) == count
    other = settle(testapp, auth, card_no, [{"kind": "cash", "amount": "90.00"}], status=409)
    assert other["fields"] == {"bill_no": "already settled with other content"}


def test_a_failing_tender_posts_nothing(testapp, auth, seed, products):
    card_no = card_of(seed, "Zhao Lei", "prepaid")
    deposit(testapp, auth, card_no, "30.00")
    count = entries(seed.db)
    seed.db.commit()
    # The credit charge is posted first; the short stored value then rolls it back with everything else.
    error = settle(testapp, auth, card_no, [{"kind": "credit", "amount": "40.00"},
                                            {"kind": "stored_value", "amount": "50.00"}], status=409)
    assert error["fields"] == {"tenders[1]": "only 30.00 of stored value on the card"}
    assert entries(seed.db) == count
    assert seed.db.scalar(select(func.count()).select_from(Settlement)) == 0
    assert find_drift(seed.db) == []


def test_tenders_must_add_up_to_the_discounted_bill(testapp, auth, seed, products):
    card_no = card_of(seed, "Zhao Lei", "prepaid")
    error = settle(testapp, auth, card_no, [{"kind": "cash", "amount": "100.00"}], status=422)
    assert error["fields"] == {"tenders": "must add up to 90.00"}


@pytest.mark.parametrize("tenders, fields", [
    ([], {"tenders": "must have at least 1 item"}),
    ([{"kind": "gold bars", "amount": "1.00"}], {"tenders[0].kind": "must be 1 to 64 letters, digits, '-' or '_'"}),
    ([{"kind": "cash", "amount": "-1"}], {"tenders[0].amount": "must not be negative"}),
    ([{"kind": "cash", "amount": "1.005"}], {"tenders[0].amount": "must have at most 2 decimal places"}),
    ([{"kind": "cash", "amount": 90}], {"tenders[0].amount": 'must be a decimal string such as "12.50", not a JSON number'}),
    ([{"kind": "cash", "amount": "90.00", "uses": 2}], {"tenders[0].uses": "applies only to a uses tender"}),
    ([{"kind": "cash", "amount": "90.00"}] * 11, {"tenders": "must have at most 10 items"}),
])
def test_bad_tenders_are_named(testapp, auth, seed, products, tenders, fields):
    card_no = card_of(seed, "Zhao Lei", "prepaid")
    assert settle(testapp, auth, card_no, tenders, status=400)["fields"] == fields


def test_a_tender_no_plugin_provides_is_well_formed_but_unusable(testapp, auth, seed, products):
    card_no = card_of(seed, "Zhao Lei", "prepaid")
    refused = settle(testapp, auth, card_no, [{"kind": "gold_bars", "amount": "90.00"}], status=422)
    assert refused["fields"] == {"tenders[0]": "no such tender"}


def test_a_money_tender_of_nothing_is_well_formed_but_unusable(testapp, auth, seed, products):
    card_no = card_of(seed, "Zhao Lei", "prepaid")
    refused = settle(testapp, auth, card_no, [{"kind": "cash", "amount": "0.00"}], status=422)
    assert refused["fields"] == {"tenders[0].amount": "must be greater than 0"}


def test_an_account_tender_given_twice_is_refused_by_name(testapp, auth, seed, products):
    card_no = card_of(seed, "Zhao Lei", "prepaid")
    tenders = [{"kind": "credit", "amount": "40.00"}, {"kind": "cash", "amount": "10.00"},
               {"kind": "credit", "amount": "40.00"}]
    assert settle(testapp, auth, card_no, tenders, status=422)["fields"] == {
        "tenders[2]": "credit is given twice: a tender that takes from an account of the card or member may appear "
                      "once"}


def test_an_amount_must_match_its_items_or_be_left_out(testapp, auth, seed, products):
    card_no = card_of(seed, "Zhao Lei", "prepaid")
    error = settle(testapp, auth, card_no, [{"kind": "cash", "amount": "90.00"}], amount="99.00", status=422)
    assert error["fields"] == {"amount": "differs from the sum of the items; send one or the other"}
    error = settle(testapp, auth, card_no, [{"kind": "cash", "amount": "90.00"}], items=None, status=400)
    assert error["fields"] == {"amount": "is required when the bill has no items"}
    doc = settle(testapp, auth, card_no, [{"kind": "cash", "amount": "90.00"}], amount="100.00")
    assert doc["gross"] == "100.00"


def test_bad_settlement_bodies_name_every_field(testapp, auth):
    error = testapp.post_json("/api/v1/settlements", {"bill_no": "", "items": "x", "tip": 1},
                              headers=auth, status=400).json
    assert error["fields"] == {"card_no": "is required", "bill_no": "must not be empty", "items": "must be a list",
                               "tenders": "is required", "tip": "is not a known field"}


def test_a_count_card_use_pays_a_spa_session(testapp, spa_auth, auth, seed, products):
    card_no = card_of(seed, "Sun Yi", "spa10")
    topped = testapp.post_json(f"/api/v1/cards/{card_no}/uses",
                               {"topup_no": "T1", "uses": 10, "amount": "2000.00", "tender": "bank_card"},
                               headers=spa_auth, status=201).json
    assert topped["balances"]["uses"] == 10
    body = {"items": [{"sku": "MASSAGE", "category": "treatment", "amount": "300.00"}]}
    doc = settle(testapp, spa_auth, card_no, [{"kind": "uses", "uses": 1, "amount": "300.00"}], bill_no="S1", **body)
    assert doc["balances"]["uses"] == 9
    assert doc["points"] == 0 and doc["earning_basis"] == "0.00"  # prepaid uses earn nothing again
    error = settle(testapp, auth, card_no, [{"kind": "uses", "uses": 1, "amount": "300.00"}], bill_no="R1",
                   status=422, **body)
    assert error["fields"] == {"tenders[0]": "uses are valid only at SPA"}
    error = settle(testapp, spa_auth, card_no, [{"kind": "uses", "uses": 10, "amount": "300.00"}], bill_no="S2",
                   status=409, **body)
    assert error["fields"] == {"tenders[0]": "only 9 uses left"}


def test_credit_charges_stay_within_the_limit_and_warn_once(testapp, auth, seed, products, plugins):
    warnings = []

    class Listener:
        from lps_core.contract import hookimpl

        @hookimpl
        def lps_on_credit_warning(self, card_id, used_cents, limit_cents):
            warnings.append((used_cents, limit_cents))

    registry_plugins = testapp.app.registry.getUtility(IPlugins).pm
    listener = Listener()
    registry_plugins.register(listener)
    try:
        card_no = card_of(seed, "Qian Hao", "prepaid")
        settle(testapp, auth, card_no, [{"kind": "credit", "amount": "90.00"}], items=[{"amount": "100.00"}])
        assert warnings == []
        doc = settle(testapp, auth, card_no, [{"kind": "credit", "amount": "720.00"}], bill_no="B2",
                     items=[{"amount": "800.00"}])
        assert doc["balances"]["credit_used"] == "810.00" and doc["balances"]["credit_left"] == "190.00"
        assert warnings == [(81000, 100000)]
        settle(testapp, auth, card_no, [{"kind": "credit", "amount": "9.00"}], bill_no="B3", items=[{"amount": "10.00"}])
        assert len(warnings) == 1  # still above the threshold: no second warning
        error = settle(testapp, auth, card_no, [{"kind": "credit", "amount": "270.00"}], bill_no="B4",
                       items=[{"amount": "300.00"}], status=409)
        assert error["fields"] == {"tenders[0]": "only 181.00 of credit left"}
    finally:
        registry_plugins.unregister(listener)


def test_repaying_credit_never_exceeds_what_is_owed(testapp, auth, seed, products):
    card_no = card_of(seed, "Qian Hao", "prepaid")
    settle(testapp, auth, card_no, [{"kind": "credit", "amount": "90.00"}])
    url = f"/api/v1/cards/{card_no}/credit-repayments"
    error = testapp.post_json(url, {"repayment_no": "P1", "amount": "100.00", "tender": "cash"},
                              headers=auth, status=409).json
    assert error["fields"] == {"amount": "at most 90.00 is owed"}
    paid = testapp.post_json(url, {"repayment_no": "P1", "amount": "90.00", "tender": "cash"}, headers=auth).json
    assert paid["balances"]["credit_used"] == "0.00" and paid["balances"]["credit_left"] == "1000.00"


def test_a_pin_protected_card_needs_its_pin_and_a_wrong_pin_posts_nothing(testapp, auth, seed, products):
    card_no = card_of(seed, "Zhou Min", "prepaid", pin="2468")
    deposit(testapp, auth, card_no, "200.00")
    count = entries(seed.db)
    seed.db.commit()
    tenders = [{"kind": "stored_value", "amount": "90.00"}]
    assert settle(testapp, auth, card_no, tenders, status=422)["fields"] == {"pin": "is required for this card"}
    assert settle(testapp, auth, card_no, tenders, pin="1111", status=403)["fields"] == {"pin": "wrong PIN, 4 tries left"}
    assert entries(seed.db) == count
    failures = seed.db.scalar(select(Card.pin_failures).where(Card.card_no == card_no))
    seed.db.commit()
    assert failures == 1
    doc = settle(testapp, auth, card_no, tenders, pin="2468")
    assert doc["balances"]["stored_value"] == "110.00"
    assert seed.db.scalar(select(Card.pin_failures).where(Card.card_no == card_no)) == 0


def test_five_wrong_pins_lock_the_card(testapp, auth, seed, products):
    card_no = card_of(seed, "Zhou Min", "prepaid", pin="2468")
    deposit(testapp, auth, card_no, "200.00")
    tenders = [{"kind": "stored_value", "amount": "90.00"}]
    for attempt in range(5):
        settle(testapp, auth, card_no, tenders, bill_no=f"W{attempt}", pin="0000", status=403)
    error = settle(testapp, auth, card_no, tenders, bill_no="W9", pin="2468", status=403)
    assert error["fields"]["pin"].startswith("card locked until")
    picture = testapp.get("/api/v1/cashier/lookup", {"card_no": card_no}, headers=auth).json["matches"][0]
    assert picture["warnings"][0].startswith("PIN locked until")


def test_an_anonymous_card_settles_without_points(testapp, auth, seed, products):
    seed.db.execute(update(CardType).where(CardType.code == "prepaid").values(anonymous=True))
    [card_no] = seed.db.execute(select(Card.card_no).limit(0)).scalars().all() or [None]
    from lps_core.cards.services import generate_pool

    [card_no] = generate_pool(seed.db, 1, card_type_code="prepaid")
    seed.db.execute(update(Card).where(Card.card_no == card_no).values(status="active", pin_hash=hash_pin("1357")))
    seed.db.commit()
    deposit(testapp, auth, card_no, "100.00")
    doc = settle(testapp, auth, card_no, [{"kind": "stored_value", "amount": "90.00"}], pin="1357")
    assert doc["member"] is None and doc["points"] == 0 and doc["balances"]["points"] is None


def test_cards_that_cannot_be_used_are_refused_with_the_reason(testapp, auth, seed, products):
    card_no = card_of(seed, "Wu Jing", "prepaid")
    seed.db.execute(update(Card).where(Card.card_no == card_no).values(status="frozen"))
    seed.db.commit()
    assert settle(testapp, auth, card_no, [{"kind": "cash", "amount": "90.00"}], status=422)["fields"] == {
        "card_no": "card is frozen"}
    from datetime import datetime, timezone

    seed.db.execute(update(Card).where(Card.card_no == card_no).values(
        status="active", valid_to=datetime(2026, 1, 1, tzinfo=timezone.utc)))
    seed.db.commit()
    error = settle(testapp, auth, card_no, [{"kind": "cash", "amount": "90.00"}], status=422)
    assert error["fields"] == {"card_no": "card expired on 2025-12-31"}


def test_look_up_by_card_phone_and_name(testapp, auth, seed, products):
    card_no = card_of(seed, "Zhao Lei", "prepaid")
    deposit(testapp, auth, card_no, "1000.00")
    by_card = testapp.get("/api/v1/cashier/lookup", {"card_no": card_no}, headers=auth).json["matches"]
    [picture] = by_card
    assert picture["usable"] and picture["warnings"] == []
    assert picture["discount_rate"] == "0.1"
    assert picture["balances"]["stored_value"] == "1000.00" and picture["balances"]["bonus_value"] == "100.00"
    assert picture["balances"]["credit_left"] == "1000.00"
    assert picture["tier"]["code"] == "classic"
    assert testapp.get("/api/v1/cashier/lookup", {"phone": "+86 139 1111 2222"}, headers=auth).json["matches"][0][
        "card_no"] == card_no
    assert testapp.get("/api/v1/cashier/lookup", {"name": "zhao"}, headers=auth).json["matches"][0][
        "card_no"] == card_no
    error = testapp.get("/api/v1/cashier/lookup", {"card_no": card_no[:-1] + str((int(card_no[-1]) + 1) % 10)},
                        headers=auth, status=422).json
    assert error["fields"] == {"card_no": "check digit does not match: the number is mistyped"}
    for query in ({}, {"card_no": card_no, "name": "zhao"}):
        assert testapp.get("/api/v1/cashier/lookup", query, headers=auth, status=422).json["fields"] == {
            "card_no": "give exactly one of card_no, phone or name"}
    assert testapp.get("/api/v1/cashier/lookup", {"name": " z "}, headers=auth, status=400).json["fields"] == {
        "name": "must have at least 2 characters"}


def test_a_partial_refund_returns_each_tender_pro_rata_and_the_points(testapp, auth, seed, products):
    card_no = card_of(seed, "Zhao Lei", "prepaid")
    deposit(testapp, auth, card_no, "1000.00")
    doc = settle(testapp, auth, card_no, [{"kind": "stored_value", "amount": "55.00"},
                                          {"kind": "credit", "amount": "20.00"},
                                          {"kind": "cash", "amount": "15.00"}])
    assert doc["points"] == 85  # 90.00 charged less 5.00 of bonus value
    url = f"/api/v1/settlements/{doc['id']}/refunds"
    refund = testapp.post_json(url, {"refund_no": "R1", "amount": "45.00"}, headers=auth, status=201).json
    assert [t["amount"] for t in refund["tenders"]] == ["27.50", "10.00", "7.50"]
    assert refund["tenders"][0]["principal"] == "25.00" and refund["tenders"][0]["bonus"] == "2.50"
    assert refund["points"] == 42
    assert refund["settlement"]["refundable"] == "45.00"
    rest = testapp.post_json(url, {}, headers=auth, status=201).json
    assert [t["amount"] for t in rest["tenders"]] == ["27.50", "10.00", "7.50"]
    assert rest["points"] == 43
    card = testapp.get("/api/v1/cashier/lookup", {"card_no": card_no}, headers=auth).json["matches"][0]
    assert card["balances"]["stored_value"] == "1000.00" and card["balances"]["bonus_value"] == "100.00"
    assert card["balances"]["credit_used"] == "0.00" and card["balances"]["points"] == 0
    over = testapp.post_json(url, {"refund_no": "R3", "amount": "0.01"}, headers=auth, status=409).json
    assert over["fields"] == {"amount": "nothing left to refund"}
    assert find_drift(seed.db) == []


def test_a_refund_can_never_exceed_what_was_paid(testapp, auth, seed, products):
    card_no = card_of(seed, "Zhao Lei", "prepaid")
    doc = settle(testapp, auth, card_no, [{"kind": "cash", "amount": "90.00"}])
    url = f"/api/v1/settlements/{doc['id']}/refunds"
    error = testapp.post_json(url, {"refund_no": "R1", "amount": "90.01"}, headers=auth, status=409).json
    assert error["fields"] == {"amount": "at most 90.00 can be refunded"}
    error = testapp.post_json(url, {"amount": "10.00"}, headers=auth, status=400).json
    assert error["fields"] == {"refund_no": "is required for a partial refund, so that retrying it is safe"}
    testapp.post_json(url, {"refund_no": "R1", "amount": "10.00"}, headers=auth, status=201)
    replay = testapp.post_json(url, {"refund_no": "R1", "amount": "10.00"}, headers=auth, status=200).json
    assert replay["replayed"]
    conflict = testapp.post_json(url, {"refund_no": "R1", "amount": "11.00"}, headers=auth, status=409).json
    assert conflict["fields"] == {"refund_no": "already used with another amount"}


def test_a_refund_after_a_tier_change_takes_back_the_points_first_earned(testapp, auth, seed, products):
    card_no = card_of(seed, "Zhao Lei", "prepaid")
    doc = settle(testapp, auth, card_no, [{"kind": "cash", "amount": "90.00"}])
    assert doc["points"] == 90
    seed.db.execute(update(Member).where(Member.id == doc["member"]["id"])
                    .values(tier_id=select(Tier.id).where(Tier.code == "gold").scalar_subquery()))
    seed.db.commit()
    refund = testapp.post_json(f"/api/v1/settlements/{doc['id']}/refunds", {}, headers=auth, status=201).json
    assert refund["points"] == 90


def test_refunding_a_use_gives_the_use_back(testapp, spa_auth, seed, products):
    card_no = card_of(seed, "Sun Yi", "spa10")
    testapp.post_json(f"/api/v1/cards/{card_no}/uses", {"topup_no": "T1", "uses": 2, "tender": "cash"},
                      headers=spa_auth)
    doc = settle(testapp, spa_auth, card_no, [{"kind": "uses", "uses": 1, "amount": "300.00"}],
                 items=[{"category": "treatment", "amount": "300.00"}])
    refund = testapp.post_json(f"/api/v1/settlements/{doc['id']}/refunds", {"reason": "guest left early"},
                               headers=spa_auth, status=201).json
    assert refund["tenders"] == [{"kind": "uses", "amount": "300.00", "uses": 1}]
    assert refund["settlement"]["balances"]["uses"] == 1  # the receipt keeps the balances after settling
    card = testapp.get("/api/v1/cashier/lookup", {"card_no": card_no}, headers=spa_auth).json["matches"][0]
    assert card["balances"]["uses"] == 2


def test_credit_repaid_before_a_refund_goes_back_in_cash(testapp, auth, seed, products):
    card_no = card_of(seed, "Qian Hao", "prepaid")
    doc = settle(testapp, auth, card_no, [{"kind": "credit", "amount": "90.00"}])
    testapp.post_json(f"/api/v1/cards/{card_no}/credit-repayments",
                      {"repayment_no": "P1", "amount": "60.00", "tender": "cash"}, headers=auth)
    refund = testapp.post_json(f"/api/v1/settlements/{doc['id']}/refunds", {}, headers=auth, status=201).json
    assert refund["tenders"] == [{"kind": "credit", "amount": "90.00", "to_credit": "30.00", "to_cash": "60.00"}]
    assert find_drift(seed.db) == []


def test_another_outlets_settlement_answers_as_an_unknown_one(testapp, auth, spa_auth, seed, products):
    card_no = card_of(seed, "Zhao Lei", "prepaid")
    doc = settle(testapp, auth, card_no, [{"kind": "cash", "amount": "90.00"}])
    unknown = doc["id"] + 1000

    def strip_id(problem):
        return {**problem, "detail": problem["detail"].replace(str(unknown), "N").replace(str(doc["id"]), "N")}

    theirs = testapp.get(f"/api/v1/settlements/{doc['id']}", headers=spa_auth, status=404).json
    missing = testapp.get(f"/api/v1/settlements/{unknown}", headers=auth, status=404).json
    assert strip_id(theirs) == strip_id(missing) and theirs["fields"] == {"id": "no such settlement"}
    refund = testapp.post_json(f"/api/v1/settlements/{doc['id']}/refunds", {}, headers=spa_auth, status=404).json
    assert strip_id(refund) == strip_id(missing)
    assert testapp.get(f"/api/v1/settlements/{doc['id']}", headers=auth).json["refundable"] == "90.00"


def test_a_card_works_at_every_outlet_of_the_group(testapp, auth, spa_auth, seed, products):
    card_no = card_of(seed, "Zhao Lei", "prepaid")
    deposit(testapp, auth, card_no, "500.00")
    settle(testapp, spa_auth, card_no, [{"kind": "stored_value", "amount": "90.00"}], bill_no="S1")
    settle(testapp, auth, card_no, [{"kind": "stored_value", "amount": "90.00"}], bill_no="S1")
    [picture] = testapp.get("/api/v1/cashier/lookup", {"card_no": card_no}, headers=auth).json["matches"]
    # 500.00 + 40.00 bonus, less 2 x 90.00 taken in proportion (6.66 of bonus value each time)
    assert (picture["balances"]["stored_value"], picture["balances"]["bonus_value"]) == ("333.32", "26.68")


def test_refunding_a_referred_members_first_bill_takes_the_referral_bonus_back(testapp, auth, seed, products):
    from datetime import datetime, timedelta, timezone

    now = datetime.now(timezone.utc)
    testapp.post_json("/api/v1/promotions", {
        "code": "REFER", "name": "Refer a friend", "kind": "referral", "params": {"levels": [300]},
        "starts_at": (now - timedelta(days=1)).isoformat(), "ends_at": (now + timedelta(days=1)).isoformat(),
    }, headers=auth)
    parent = seed.member_card("Parent")
    member = testapp.post_json("/api/v1/members", {"name": "Child", "phone": "+8613800000002", "channel": "desk",
                                                   "referrer_card_no": parent}, headers=auth).json
    child = testapp.post_json(f"/api/v1/members/{member['id']}/approve", {"card_type": "prepaid"},
                              headers=auth).json["card_no"]
    doc = settle(testapp, auth, child, [{"kind": "cash", "amount": "90.00"}])

    def points(card_no):
        return testapp.get("/api/v1/cashier/lookup", {"card_no": card_no}, headers=auth).json["matches"][0][
            "balances"]["points"]

    assert points(parent) == 300
    url = f"/api/v1/settlements/{doc['id']}/refunds"
    testapp.post_json(url, {"refund_no": "R1", "amount": "30.00"}, headers=auth, status=201)
    assert points(parent) == 200  # a third of the bill, a third of the bonus
    testapp.post_json(url, {}, headers=auth, status=201)
    assert (points(parent), points(child)) == (0, 0)
    assert find_drift(seed.db) == []
