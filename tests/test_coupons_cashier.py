"""Coupons at the cashier: the coupon tender pays once (also when two tills race on PostgreSQL),
refuses minimum spend, outlet and validity with 422 naming the line, comes back on a full refund;
a multiplier coupon adds exactly (multiplier - 1) times a bill's points; the ledger stays clean."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from lps_core.cards.models import Card
from lps_core.cashier.models import Settlement
from lps_core.coupons.models import Coupon
from lps_core.coupons.services import TypeSpec, issue_coupons, save_type
from lps_core.ledger.check import find_drift
from lps_core.ledger.models import Account
from lps_core.testing import post_all_at_once
from lps_core.timeutil import utcnow


@pytest.fixture
def rest(seed):
    return {"Authorization": f"Bearer {seed.api_key('REST')}"}


def coupon_for(db, seed, card_no, spec, **issue):
    save_type(db, spec)
    member_id = db.scalar(select(Card.member_id).where(Card.card_no == card_no))
    [coupon] = issue_coupons(db, spec.code, [member_id], source="staff", source_ref=issue.get("ref", ""),
                             now=issue.get("now", utcnow()))
    db.commit()
    return coupon.code


def settle(testapp, auth, card_no, tenders, bill_no="B1", amount="100.00", status=201):
    return testapp.post_json("/api/v1/settlements", {"card_no": card_no, "bill_no": bill_no, "amount": amount,
                                                     "tenders": tenders}, headers=auth, status=status).json


def row(db, code):
    db.rollback()
    return db.scalar(select(Coupon).where(Coupon.code == code))


def test_a_coupon_pays_once_and_comes_back_on_a_full_refund(testapp, db, seed, rest):
    card_no = seed.member_card()
    code = coupon_for(db, seed, card_no, TypeSpec("TEN", "10 off", "amount", value_cents=1000, valid_days=30))
    paid = settle(testapp, rest, card_no, [{"kind": "coupon", "amount": "10.00", "reference": code.lower()},
                                           {"kind": "cash", "amount": "90.00"}])
    assert row(db, code).status == "used"
    again = settle(testapp, rest, card_no, [{"kind": "coupon", "amount": "10.00", "reference": code},
                                            {"kind": "cash", "amount": "90.00"}], bill_no="B2", status=422)
    assert again["fields"] == {"tenders[0].reference": "this coupon is used up"}
    testapp.post_json(f"/api/v1/settlements/{paid['id']}/refunds", {}, headers=rest, status=201)
    assert row(db, code).status == "issued" and row(db, code).uses_left == 1
    settle(testapp, rest, card_no, [{"kind": "coupon", "amount": "10.00", "reference": code},
                                    {"kind": "cash", "amount": "90.00"}], bill_no="B3")
    assert find_drift(db) == []


@pytest.mark.parametrize("spec,amount,reason", [
    (TypeSpec("MIN", "min", "amount", value_cents=1000, valid_days=3, min_spend_cents=20000), "10.00",
     "the bill is under this coupon's minimum spend of 200.00"),
    (TypeSpec("SPA", "spa", "amount", value_cents=1000, valid_days=3, outlets=("SPA",)), "10.00",
     "this coupon is not taken at outlet REST"),
    (TypeSpec("PCT", "pct", "percent", percent=10, valid_days=3), "10.01", "pays at most 10.00"),
])
def test_a_coupon_outside_its_rules_is_refused_naming_the_line(testapp, db, seed, rest, spec, amount, reason):
    card_no = seed.member_card()
    code = coupon_for(db, seed, card_no, spec)
    cash = f"{10000 - int(amount.replace('.', '')):d}"
    refused = settle(testapp, rest, card_no, [{"kind": "cash", "amount": f"{cash[:-2]}.{cash[-2:]}"},
                                              {"kind": "coupon", "amount": amount, "reference": code}], status=422)
    assert refused["fields"] == {"tenders[1].reference": reason}
    assert row(db, code).uses_left == 1


def test_an_expired_coupon_is_refused(testapp, db, seed, rest):
    card_no = seed.member_card()
    code = coupon_for(db, seed, card_no, TypeSpec("ONE", "one day", "amount", value_cents=500, valid_days=1),
                      now=utcnow() - timedelta(days=2))
    refused = settle(testapp, rest, card_no, [{"kind": "coupon", "amount": "5.00", "reference": code},
                                              {"kind": "cash", "amount": "95.00"}], status=422)
    assert refused["fields"] == {"tenders[0].reference": "this coupon has expired"}


def test_a_multiplier_adds_exact_points_and_a_refund_takes_them_back(testapp, db, seed, rest):
    card_no = seed.member_card()
    code = coupon_for(db, seed, card_no, TypeSpec("X3", "triple", "multiplier", multiplier=3, valid_days=3))
    settle(testapp, rest, card_no, [{"kind": "cash", "amount": "100.00"}])
    db.rollback()
    before = db.scalar(select(Account.balance).where(Account.id == seed.points_account(card_no)))
    applied = testapp.post_json(f"/api/v1/coupons/{code}/apply", {"bill_no": "B1"}, headers=rest, status=200).json
    assert applied["points"] == 200  # REST earns 1 point per 1.00: 100 points, tripled
    assert testapp.post_json(f"/api/v1/coupons/{code}/apply", {"bill_no": "B1"}, headers=rest).json == applied
    db.rollback()
    assert db.scalar(select(Account.balance).where(Account.id == seed.points_account(card_no))) == before + 200
    settlement_id = db.scalar(select(Settlement.id))
    testapp.post_json(f"/api/v1/settlements/{settlement_id}/refunds", {"amount": "50.00", "refund_no": "R1"},
                      headers=rest, status=201)
    testapp.post_json(f"/api/v1/settlements/{settlement_id}/refunds", {}, headers=rest, status=201)
    db.rollback()
    assert db.scalar(select(Account.balance).where(Account.id == seed.points_account(card_no))) == 0
    assert row(db, code).uses_left == 1
    assert find_drift(db) == []


def test_two_tills_racing_for_one_coupon_settle_once(server, db, seed, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("the race needs PostgreSQL's concurrent writers")
    card_no = seed.member_card()
    code = coupon_for(db, seed, card_no, TypeSpec("TEN", "10 off", "amount", value_cents=1000, valid_days=3))
    auth = {"Authorization": f"Bearer {seed.api_key('REST')}"}
    bodies = [{"card_no": card_no, "bill_no": f"R{n}", "amount": "100.00",
               "tenders": [{"kind": "coupon", "amount": "10.00", "reference": code},
                           {"kind": "cash", "amount": "90.00"}]} for n in range(4)]
    answers = post_all_at_once(server, "/api/v1/settlements", bodies, auth)
    assert sorted(status for status, _ in answers) == [201, 422, 422, 422]
    assert row(db, code).status == "used"


def test_the_look_up_shows_the_coupons_usable_at_the_outlet(testapp, db, seed, rest):
    card_no = seed.member_card()
    code = coupon_for(db, seed, card_no, TypeSpec("TEN", "10 off", "amount", value_cents=1000, valid_days=3,
                                                  min_spend_cents=5000))
    coupon_for(db, seed, card_no, TypeSpec("SPA", "spa only", "percent", percent=10, valid_days=3, outlets=("SPA",)))
    [match] = testapp.get("/api/v1/cashier/lookup", {"card_no": card_no}, headers=rest).json["matches"]
    assert [(c["code"], c["gives"], c["min_spend"]) for c in match["coupons"]] == [(code, "10.00", "50.00")]
    other = seed.member_card(name="No Coupons")
    [match] = testapp.get("/api/v1/cashier/lookup", {"card_no": other}, headers=rest).json["matches"]
    assert match["coupons"] == []
