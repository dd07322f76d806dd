"""Coupons as the prize of a promotion: a promotion that gives points, or one of kind `coupon` that
gives only coupons, issues its prize on each bill it applies to, once per bill (a replayed bill
issues nothing twice); a bill that wins none costs no statement and one that wins one costs its
INSERT; a whole refund voids the prize (a used one too, so its use never comes back), a partial
one leaves it; an unknown or switched-off prize type is 422 naming prize_coupon_type. And the
coupon types' refund rules: return, return_unexpired, forfeit."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from lps_core.cards.models import Card
from lps_core.coupons.models import Coupon, CouponType
from lps_core.coupons.services import TypeSpec, issue_coupons, save_type
from lps_core.earning.promotions import clean_promotion, save_promotion
from lps_core.ledger.check import find_drift
from lps_core.ledger.models import Account
from lps_core.testing import audited, csrf_of, sign_in_as
from lps_core.timeutil import utcnow

NOW = datetime.now(timezone.utc)
WINDOW = {"starts_at": (NOW - timedelta(days=1)).isoformat(), "ends_at": (NOW + timedelta(days=30)).isoformat()}
PASSWORD = "Prizes-pass-2026!"
TEN_OFF = TypeSpec("TEN", "10 off", "amount", value_cents=1000, valid_days=30)


@pytest.fixture
def auth(seed):
    return {"Authorization": f"Bearer {seed.api_key('REST')}"}


def promotion(testapp, auth, code, kind="bonus", params=None, status=201, **fields):
    body = {"code": code, "name": code.title(), "kind": kind, "params": {"points": 50} if params is None else params,
            **WINDOW, **fields}
    return testapp.post_json("/api/v1/promotions", body, headers=auth, status=status).json


def earn(testapp, auth, card_no, bill_no, amount="100.00", status=201):
    return testapp.post_json("/api/v1/transactions", {"card_no": card_no, "bill_no": bill_no, "amount": amount},
                             headers=auth, status=status).json


def prizes_of(db, card_no):
    db.rollback()
    member_id = db.scalar(select(Card.member_id).where(Card.card_no == card_no))
    return db.scalars(select(Coupon).where(Coupon.member_id == member_id, Coupon.source == "promotion")
                      .order_by(Coupon.source_ref)).all()


def test_a_promotion_gives_its_points_and_its_coupons_once_per_bill(testapp, db, seed, auth):
    save_type(db, TEN_OFF)
    db.commit()
    shown = promotion(testapp, auth, "WELCOME", prize_coupon_type="TEN", prize_count=2)
    assert (shown["prize_coupon_type"], shown["prize_count"]) == ("TEN", 2)
    card_no = seed.member_card()
    first = earn(testapp, auth, card_no, "B1")
    assert [line["rule"] for line in first["breakdown"] if line["step"] == "promotion"] == ["WELCOME"]
    assert earn(testapp, auth, card_no, "B1", status=200)["replayed"]  # issues nothing more
    coupons = prizes_of(db, card_no)
    assert [c.source_ref for c in coupons] == [f"bill:{first['id']}/promotion:{shown['id']}/1",
                                               f"bill:{first['id']}/promotion:{shown['id']}/2"]
    assert {(c.status, c.uses_left) for c in coupons} == {("issued", 1)}
    assert (coupons[0].valid_to - coupons[0].valid_from).days >= 29
    earn(testapp, auth, card_no, "B2")
    assert len(prizes_of(db, card_no)) == 4
    assert find_drift(db) == []


def test_a_coupon_only_promotion_gives_no_points_and_keeps_its_filters(testapp, db, seed, auth):
    save_type(db, TEN_OFF)
    db.commit()
    promotion(testapp, auth, "BIGSPEND", kind="coupon", params={"min_amount": "200.00"}, prize_coupon_type="TEN")
    promotion(testapp, auth, "SPAONLY", kind="coupon", params={}, prize_coupon_type="TEN", outlets=["SPA"])
    card_no = seed.member_card()
    earn(testapp, auth, card_no, "B1", "199.99")
    big = earn(testapp, auth, card_no, "B2", "200.00")
    assert not [line for line in big["breakdown"] if line["step"] == "promotion"]
    coupons = prizes_of(db, card_no)
    assert [c.source_ref.split("/")[0] for c in coupons] == [f"bill:{big['id']}"]


def test_a_losing_best_of_promotion_gives_no_prize(testapp, db, seed, auth):
    save_type(db, TEN_OFF)
    db.commit()
    promotion(testapp, auth, "SMALL", params={"points": 10}, stacking="best_of", prize_coupon_type="TEN")
    promotion(testapp, auth, "LARGE", params={"points": 90}, stacking="best_of")
    card_no = seed.member_card()
    earn(testapp, auth, card_no, "B1")
    assert prizes_of(db, card_no) == []


def test_a_prize_type_is_checked(testapp, db, seed, auth):
    save_type(db, TEN_OFF)
    save_type(db, TypeSpec("OFF", "switched off", "amount", value_cents=500, valid_days=3, active=False))
    save_type(db, TypeSpec("OLD", "over", "amount", value_cents=500, valid_from=NOW.date() - timedelta(days=9),
                           valid_to=NOW.date() - timedelta(days=2)))
    db.commit()
    for code, reason in (("NOPE", "no such coupon type"), ("OFF", "this coupon type is switched off"),
                         ("OLD", "this coupon type's validity is over")):
        refused = promotion(testapp, auth, "P1", prize_coupon_type=code, status=422)
        assert refused["fields"] == {"prize_coupon_type": reason}
    refused = promotion(testapp, auth, "P1", kind="coupon", params={}, status=422)
    assert "gives only its prize" in refused["fields"]["prize_coupon_type"]
    refused = promotion(testapp, auth, "P1", prize_count=2, status=422)
    assert refused["fields"] == {"prize_coupon_type": "is required with prize_count"}
    too_many = promotion(testapp, auth, "P1", prize_coupon_type="TEN", prize_count=101, status=400)
    assert "prize_count" in too_many["fields"]
    promotion(testapp, auth, "P1", prize_coupon_type="TEN")
    # A prize whose type is switched off since does not stop the promotion from being ended or changed.
    db.execute(update(CouponType).where(CouponType.code == "TEN").values(active=False))
    db.commit()
    ended = testapp.patch_json("/api/v1/promotions/P1", {"active": False}, headers=auth, status=200).json
    assert ended["prize_coupon_type"] == "TEN"
    cleared = testapp.patch_json("/api/v1/promotions/P1", {"prize_coupon_type": None}, headers=auth).json
    assert (cleared["prize_coupon_type"], cleared["prize_count"]) == (None, None)
    refused = testapp.patch_json("/api/v1/promotions/P1", {"prize_coupon_type": "TEN"}, headers=auth,
                                 status=422).json
    assert refused["fields"] == {"prize_coupon_type": "this coupon type is switched off"}


def test_a_switched_off_prize_is_not_given_and_the_bill_posts(testapp, db, seed, auth):
    save_type(db, TEN_OFF)
    db.commit()
    promotion(testapp, auth, "WELCOME", prize_coupon_type="TEN")
    db.execute(update(CouponType).where(CouponType.code == "TEN").values(active=False))
    db.commit()
    card_no = seed.member_card()
    assert earn(testapp, auth, card_no, "B1")["points"] > 0
    assert prizes_of(db, card_no) == []


def test_a_whole_refund_voids_the_prize_and_a_partial_one_leaves_it(testapp, db, seed, auth):
    save_type(db, TEN_OFF)
    db.commit()
    promotion(testapp, auth, "WELCOME", prize_coupon_type="TEN")
    card_no = seed.member_card()
    bill = earn(testapp, auth, card_no, "B1")
    testapp.post_json(f"/api/v1/transactions/{bill['id']}/reversal", {"amount": "40.00"}, headers=auth, status=201)
    assert [c.status for c in prizes_of(db, card_no)] == ["issued"]
    testapp.post_json(f"/api/v1/transactions/{bill['id']}/reversal", {}, headers=auth, status=201)
    assert [c.status for c in prizes_of(db, card_no)] == ["void"]


def test_a_used_prize_is_voided_by_the_whole_refund_and_gets_no_use_back(testapp, db, seed, auth):
    save_type(db, TEN_OFF)
    db.commit()
    promotion(testapp, auth, "WELCOME", prize_coupon_type="TEN")
    card_no = seed.member_card()
    bill = earn(testapp, auth, card_no, "B1")
    [prize] = prizes_of(db, card_no)
    paid = testapp.post_json("/api/v1/settlements", {
        "card_no": card_no, "bill_no": "S1", "amount": "100.00",
        "tenders": [{"kind": "coupon", "amount": "10.00", "reference": prize.code},
                    {"kind": "cash", "amount": "90.00"}]}, headers=auth, status=201).json
    testapp.post_json(f"/api/v1/transactions/{bill['id']}/reversal", {}, headers=auth, status=201)
    won_by_b1 = [c for c in prizes_of(db, card_no) if c.source_ref.startswith(f"bill:{bill['id']}/")]
    assert [(c.code, c.status) for c in won_by_b1] == [(prize.code, "void")]
    testapp.post_json(f"/api/v1/settlements/{paid['id']}/refunds", {}, headers=auth, status=201)
    assert state(db, prize.code) == ("void", 0)
    assert find_drift(db) == []


def test_a_bill_that_wins_a_prize_costs_one_insert_more(counted_app, seed):
    """On PostgreSQL, counted: the earn request's four statements and the coupons' INSERT."""
    app, statements = counted_app
    db = seed.db
    save_type(db, TEN_OFF)
    for code, outlets in (("SPAPRIZE", ["SPA"]), ("RESTPRIZE", ["REST"])):
        save_promotion(db, clean_promotion({"code": code, "name": code, "kind": "coupon", "params": {},
                                            "prize_coupon_type": "TEN", "outlets": outlets, **WINDOW},
                                           kinds=seed.plugins.promotion_kinds))
    db.commit()
    auth = {"Authorization": f"Bearer {seed.api_key('REST')}"}
    card_no = seed.member_card()

    def sent(bill_no, amount):
        statements.clear()
        app.post_json("/api/v1/transactions", {"card_no": card_no, "bill_no": bill_no, "amount": amount},
                      headers=auth, status=201)
        return list(statements)

    sent("warm-up", "1.00")
    with_prize = sent("B1", "123.45")
    assert [s for s in with_prize if s.startswith("INSERT INTO coupons")] and len(with_prize) == 4 + 1


def test_an_earn_with_no_prize_at_its_outlet_stays_at_four_statements(counted_app, seed):
    """On PostgreSQL, counted: a prize promotion running at another outlet costs the earn nothing."""
    app, statements = counted_app
    db = seed.db
    save_type(db, TEN_OFF)
    save_promotion(db, clean_promotion({"code": "SPAPRIZE", "name": "Spa", "kind": "coupon", "params": {},
                                        "prize_coupon_type": "TEN", "outlets": ["SPA"], **WINDOW},
                                       kinds=seed.plugins.promotion_kinds))
    db.commit()
    auth = {"Authorization": f"Bearer {seed.api_key('REST')}"}
    card_no = seed.member_card()
    app.post_json("/api/v1/transactions", {"card_no": card_no, "bill_no": "warm-up", "amount": "1.00"},
                  headers=auth, status=201)
    statements.clear()
    app.post_json("/api/v1/transactions", {"card_no": card_no, "bill_no": "B1", "amount": "1.00"},
                  headers=auth, status=201)
    assert len(statements) <= 4, statements


# Refund rules of coupon types.

def coupon_for(db, card_no, spec, now=None):
    save_type(db, spec)
    member_id = db.scalar(select(Card.member_id).where(Card.card_no == card_no))
    [coupon] = issue_coupons(db, spec.code, [member_id], source="staff", source_ref="", now=now or utcnow())
    db.commit()
    return coupon.code


def pay_and_refund(testapp, auth, card_no, code, bill_no="S1"):
    paid = testapp.post_json("/api/v1/settlements", {
        "card_no": card_no, "bill_no": bill_no, "amount": "100.00",
        "tenders": [{"kind": "coupon", "amount": "10.00", "reference": code},
                    {"kind": "cash", "amount": "90.00"}]}, headers=auth, status=201).json
    return testapp.post_json(f"/api/v1/settlements/{paid['id']}/refunds", {}, headers=auth, status=201).json


def state(db, code):
    db.rollback()
    coupon = db.scalar(select(Coupon).where(Coupon.code == code))
    return coupon.status, coupon.uses_left


@pytest.mark.parametrize("rule,back", [("return", True), ("return_unexpired", True), ("forfeit", False)])
def test_a_refund_gives_the_use_back_as_the_type_says(testapp, db, seed, auth, rule, back):
    card_no = seed.member_card()
    code = coupon_for(db, card_no, TypeSpec("TEN", "10 off", "amount", value_cents=1000, valid_days=30,
                                            on_refund=rule))
    pay_and_refund(testapp, auth, card_no, code)
    assert state(db, code) == (("issued", 1) if back else ("used", 0))


def test_return_unexpired_keeps_an_expired_coupon_used(testapp, db, seed, auth):
    card_no = seed.member_card()
    code = coupon_for(db, card_no, TypeSpec("TEN", "10 off", "amount", value_cents=1000, valid_days=30,
                                            on_refund="return_unexpired"))
    paid = testapp.post_json("/api/v1/settlements", {
        "card_no": card_no, "bill_no": "S1", "amount": "100.00",
        "tenders": [{"kind": "coupon", "amount": "10.00", "reference": code},
                    {"kind": "cash", "amount": "90.00"}]}, headers=auth, status=201).json
    db.execute(update(Coupon).where(Coupon.code == code).values(valid_from=utcnow() - timedelta(days=2),
                                                                 valid_to=utcnow() - timedelta(minutes=1)))
    db.commit()
    testapp.post_json(f"/api/v1/settlements/{paid['id']}/refunds", {}, headers=auth, status=201)
    assert state(db, code) == ("used", 0)


def test_a_forfeited_multiplier_still_gives_back_its_extra_points(testapp, db, seed, auth):
    card_no = seed.member_card()
    code = coupon_for(db, card_no, TypeSpec("X2", "double", "multiplier", multiplier=2, valid_days=30,
                                            on_refund="forfeit"))
    bill = earn(testapp, auth, card_no, "B1")
    applied = testapp.post_json(f"/api/v1/coupons/{code}/apply", {"bill_no": "B1"}, headers=auth).json
    assert applied["points"] == bill["points"] > 0
    testapp.post_json(f"/api/v1/transactions/{bill['id']}/reversal", {}, headers=auth, status=201)
    assert state(db, code) == ("used", 0)
    assert db.scalar(select(Account.balance).where(Account.member_id == db.scalar(
        select(Card.member_id).where(Card.card_no == card_no)), Account.kind == "points")) == 0
    assert find_drift(db) == []


def test_a_coupon_type_keeps_its_refund_rule_through_the_api(testapp, auth):
    body = {"code": "TEN", "name": "10 off", "kind": "amount", "value": "10.00", "valid_days": 30}
    assert testapp.post_json("/api/v1/coupon-types", body, headers=auth).json["on_refund"] == "return"
    saved = testapp.post_json("/api/v1/coupon-types", {**body, "on_refund": "forfeit"}, headers=auth).json
    assert saved["on_refund"] == "forfeit"
    refused = testapp.post_json("/api/v1/coupon-types", {**body, "on_refund": "sometimes"}, headers=auth,
                                status=400).json
    assert "on_refund" in refused["fields"]


# The screens.

def test_the_promotion_screen_sets_and_refuses_a_prize(testapp, db, seed):
    sign_in_as(testapp, seed, "marketer", PASSWORD, ["marketing"], ["all"])
    save_type(db, TEN_OFF)
    save_type(db, TypeSpec("OFF", "switched off", "amount", value_cents=500, valid_days=3, active=False))
    db.commit()
    page = testapp.get("/config/promotions/new")
    assert [o["value"] for o in page.html.select("#prize_coupon_type option")] == ["", "OFF", "TEN"]
    form = {"csrf_token": csrf_of(page), "code": "SPEND", "name": "Spend and win", "kind": "coupon",
            "params": "{}", "starts_at": "2020-01-01T00:00", "ends_at": "2035-01-01T00:00", "stacking": "stack",
            "priority": "0", "active": "1"}
    refused = testapp.post("/config/promotions/new", form, status=400)
    assert refused.html.select_one("#prize_coupon_type")["aria-invalid"] == "true"
    refused = testapp.post("/config/promotions/new", {**form, "prize_coupon_type": "OFF"}, status=400)
    assert "this coupon type is switched off" in refused.text
    testapp.post("/config/promotions/new", {**form, "prize_coupon_type": "TEN", "prize_count": "3"}, status=303)
    assert audited(db, "promotion.create")[-1].after["prize_coupon_type"] == "TEN"
    page = testapp.get("/config/promotions/SPEND")
    assert page.html.select_one("#prize_coupon_type option[selected]")["value"] == "TEN"
    assert page.html.select_one("#prize_count")["value"] == "3"
    testapp.post("/config/promotions/SPEND", {**form, "kind": "bonus", "params": '{"points": 5}',
                                              "prize_coupon_type": ""}, status=303)
    db.rollback()
    assert audited(db, "promotion.edit")[-1].after["prize_coupon_type"] is None


def test_the_coupon_type_screen_sets_the_refund_rule(testapp, db, seed):
    sign_in_as(testapp, seed, "marketer", PASSWORD, ["marketing"], ["all"])
    page = testapp.get("/coupons")
    assert [o["value"] for o in page.html.select("#ct-on_refund option")] == ["return", "return_unexpired", "forfeit"]
    form = {"csrf_token": csrf_of(page), "code": "TEN", "name": "Ten off", "kind": "amount", "value": "10.00",
            "valid_days": "30", "uses": "1", "active": "on", "on_refund": "forfeit"}
    refused = testapp.post("/coupons", {**form, "on_refund": "never"}, status=400)
    assert refused.html.select_one("#ct-on_refund") is not None
    testapp.post("/coupons", form, status=303)
    db.rollback()
    assert db.scalar(select(CouponType.on_refund).where(CouponType.code == "TEN")) == "forfeit"
    assert "the use is forfeited" in testapp.get("/coupons").html.select_one("#coupon-types").text


def test_the_promotion_list_shows_the_prize(testapp, db, seed, auth):
    save_type(db, TEN_OFF)
    db.commit()
    promotion(testapp, auth, "WIN", prize_coupon_type="TEN", prize_count=2)
    promotion(testapp, auth, "PLAIN")
    sign_in_as(testapp, seed, "marketer", PASSWORD, ["marketing"], ["all"])
    rows = {row.select_one("td").text: row.select("td")[6].text
            for row in testapp.get("/config/promotions").html.select("tbody tr")}
    assert rows == {"WIN": "TEN × 2", "PLAIN": "–"}
