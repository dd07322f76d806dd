"""Correctness rules that cut across earning, the cashier, rewards and tiers: one usability rule
for cards on every path, bounded back-dating, ceilings per bill, refunds that take back all of a
bill's activity, redemption numbers in the ledger, and rounding once at the end of the chain."""
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, insert, select, update

from lps_core.cards.models import Card, CardType
from lps_core.ledger import services as ledger
from lps_core.ledger.check import find_drift
from lps_core.ledger.models import LedgerEntry
from lps_core.timeutil import isoformat, utcnow


@pytest.fixture
def till(seed):
    """An API key of REST for bills, the cashier, rewards and card management."""
    return {"Authorization": f"Bearer {seed.api_key('REST', scopes=['transactions', 'cashier', 'rewards', 'cards.manage'])}"}


@pytest.fixture
def rewards_manager(seed):
    return {"Authorization": f"Bearer {seed.api_key('REST', scopes=['rewards', 'rewards.manage'])}"}


def entries(db):
    db.rollback()  # a new snapshot: see what the app committed
    return db.scalar(select(func.count()).select_from(LedgerEntry))


def expire(seed, card_no, days_ago=1):
    seed.db.execute(update(Card).where(Card.card_no == card_no)
                    .values(valid_to=utcnow() - timedelta(days=days_ago)))
    seed.db.commit()


def prepaid_card(seed):
    seed.db.execute(insert(CardType).values(code="prepaid", name="Prepaid", prefix="8801", stored_value=True,
                                            credit_limit_cents=100000))
    seed.db.commit()
    from lps_core.members.services import Enrolment, approve_member, enrol_member

    member_id = enrol_member(seed.db, Enrolment(name="Prepaid Guest", channel="desk", phone="+8613911113333"))
    card_no = approve_member(seed.db, member_id, card_type_code="prepaid")
    seed.db.commit()
    return card_no


# --- 1. One rule decides whether a card is usable -----------------------------------------------

def test_an_expired_card_is_refused_on_every_path(testapp, seed, till, rewards_manager):
    card_no = prepaid_card(seed)
    account = seed.points_account(card_no)
    ledger.credit(seed.db, account, 1000, kind=ledger.EARN, business_key="gift", fingerprint="gift",
                  expires_at=utcnow() + timedelta(days=100))
    seed.db.commit()
    testapp.post_json("/api/v1/rewards", {"code": "MUG", "name": "Mug", "category": "item", "cost": "5.00"},
                      headers=rewards_manager)
    expire(seed, card_no)
    expired = f"card expired on {(utcnow() - timedelta(days=1, microseconds=1)).date().isoformat()}"
    before = entries(seed.db)

    earn = testapp.post_json("/api/v1/transactions", {"card_no": card_no, "bill_no": "B1", "amount": "100.00"},
                             headers=till, status=422).json
    assert earn["fields"] == {"card_no": expired}
    settle = testapp.post_json("/api/v1/settlements", {
        "card_no": card_no, "bill_no": "S1", "tenders": [{"kind": "cash", "amount": "100.00"}],
        "items": [{"sku": "STEAK", "category": "food", "qty": "1", "amount": "100.00"}]}, headers=till, status=422).json
    assert settle["fields"] == {"card_no": expired}
    deposit = testapp.post_json(f"/api/v1/cards/{card_no}/deposits",
                                {"deposit_no": "D1", "amount": "100.00", "tender": "cash"}, headers=till, status=422).json
    assert deposit["fields"] == {"card_no": expired}
    redeem = testapp.post_json("/api/v1/redemptions", {"card_no": card_no, "reward": "MUG", "request_no": "R-1"},
                               headers=till, status=422).json
    assert redeem["fields"] == {"card_no": expired}
    pin = testapp.post_json(f"/api/v1/cards/{card_no}/pin", {"pin": "1234", "reset": True}, headers=till,
                            status=422).json
    assert pin["fields"] == {"card_no": expired}
    assert entries(seed.db) == before


def test_the_rule_itself(seed):
    from lps_core.cards.products import CardUse, ensure_usable, usability_problem
    from lps_core.errors import Unprocessable

    now = utcnow()
    active = CardUse("8800000000000017", "active", True, "active")
    assert usability_problem(active, now, "earn") is None
    assert usability_problem(CardUse("1", "frozen", True, "active"), now, "earn") == "card is frozen"
    assert usability_problem(CardUse("1", "frozen", True, "active"), now, "pin") is None
    assert usability_problem(CardUse("1", "active", True, "suspended"), now, "settle") == "member is suspended"
    assert usability_problem(CardUse("1", "active", True, "dormant"), now, "redeem") is None
    assert usability_problem(CardUse("1", "active", True, "active", valid_from=now + timedelta(days=2)), now,
                             "deposit").startswith("card is valid from ")
    assert usability_problem(CardUse("1", "active", True, "active", type_valid_to=now), now, "settle") \
        .startswith("card expired on ")
    bearer = CardUse("8800000000000017", "active", False, None)
    assert usability_problem(bearer, now, "settle") is None
    with pytest.raises(Unprocessable) as refused:
        ensure_usable(bearer, now, "redeem")
    assert refused.value.fields == {"card_no": "card has no member"}
    assert "None" not in refused.value.message and "bearer card" in refused.value.message


def test_a_retry_of_a_bill_posted_before_the_card_expired_replays(testapp, seed, till):
    card_no = seed.member_card()
    body = {"card_no": card_no, "bill_no": "B1", "amount": "100.00"}
    first = testapp.post_json("/api/v1/transactions", body, headers=till, status=201).json
    expire(seed, card_no)
    again = testapp.post_json("/api/v1/transactions", body, headers=till, status=200).json
    assert again["replayed"] and again["points"] == first["points"]
    assert find_drift(seed.db) == []


# --- 4. Ceilings per bill ------------------------------------------------------------------------

def test_a_bill_over_the_maximum_is_refused_and_points_are_capped(testapp, seed, till):
    card_no = seed.member_card()
    spa = {"Authorization": f"Bearer {seed.api_key('SPA', scopes=['transactions'])}"}
    before = entries(seed.db)
    huge = testapp.post_json("/api/v1/transactions", {"card_no": card_no, "bill_no": "B1",
                                                      "amount": "99999999999.99"}, headers=till, status=422).json
    assert huge["fields"] == {"amount": "must be at most 1000000.00"}
    assert entries(seed.db) == before
    # SPA earns 2 points per 1.00: the largest bill would earn 2,000,000, the ceiling is 1,000,000.
    capped = testapp.post_json("/api/v1/transactions", {"card_no": card_no, "bill_no": "B2",
                                                        "amount": "1000000.00"}, headers=spa, status=201).json
    assert capped["points"] == 1_000_000
    assert capped["breakdown"][-1] == {"step": "cap", "rule": "outlet_ceiling", "points": -1_000_000,
                                       "description": "at most 1000000 points per bill at SPA"}
    assert sum(line["points"] for line in capped["breakdown"]) == capped["points"]
    settle = testapp.post_json("/api/v1/settlements", {
        "card_no": card_no, "bill_no": "S1", "tenders": [{"kind": "cash", "amount": "2000000.00"}],
        "items": [{"sku": "VILLA", "category": "rooms", "qty": "1", "amount": "2000000.00"}]},
        headers=till, status=422).json
    assert settle["fields"] == {"items": "must be at most 1000000.00"}


def test_ceilings_are_configured_per_outlet(seed):
    from lps_core.earning.limits import PostingLimits
    from lps_core.earning.programme import Programme
    from lps_core.earning.services import EarnRequest, OutletContext, earn_points_for_bill
    from lps_core.errors import ConfigurationError, Unprocessable
    from lps_core.outlets.models import Outlet

    programme = Programme.from_settings({"lps.rules.cache_seconds": "0", "lps.earning.max_bill_amount": "5000.00",
                                         "lps.earning.max_points_per_bill.REST": "300"})
    card_no = seed.member_card()
    rest = OutletContext(seed.db.scalar(select(Outlet.id).where(Outlet.code == "REST")), "REST")
    spa = OutletContext(seed.db.scalar(select(Outlet.id).where(Outlet.code == "SPA")), "SPA")
    earned = earn_points_for_bill(seed.db, seed.plugins, programme, rest, EarnRequest(card_no, "B1", 400000, None, ()))
    assert earned.points == 300 and earned.breakdown[-1]["rule"] == "outlet_ceiling"
    assert earn_points_for_bill(seed.db, seed.plugins, programme, spa,
                                EarnRequest(card_no, "B2", 400000, None, ())).points == 8000
    with pytest.raises(Unprocessable) as refused:
        earn_points_for_bill(seed.db, seed.plugins, programme, spa, EarnRequest(card_no, "B3", 500001, None, ()))
    assert refused.value.fields == {"amount": "must be at most 5000.00"}
    for bad in ({"lps.earning.max_bill_amount": "lots"}, {"lps.earning.max_points_per_bill.SPA": "0"},
                {"lps.postings.max_backdate_days": "-1"}):
        with pytest.raises(ConfigurationError, match=next(iter(bad))):
            PostingLimits.from_settings(bad)


# --- 2. Back-dated bills -------------------------------------------------------------------------

def test_back_dating_is_bounded_for_bills_settlements_deposits_and_repayments(testapp, seed, till):
    card_no = prepaid_card(seed)
    too_old = isoformat(utcnow() - timedelta(days=31))
    refused = {"occurred_at": "must be at most 30 days in the past"}
    before = entries(seed.db)
    assert testapp.post_json("/api/v1/transactions", {"card_no": card_no, "bill_no": "B1", "amount": "10.00",
                                                      "occurred_at": too_old}, headers=till, status=422).json["fields"] == refused
    assert testapp.post_json("/api/v1/settlements", {
        "card_no": card_no, "bill_no": "S1", "occurred_at": too_old, "tenders": [{"kind": "cash", "amount": "10.00"}],
        "items": [{"sku": "TEA", "category": "drinks", "qty": "1", "amount": "10.00"}]},
        headers=till, status=422).json["fields"] == refused
    for path, number in (("deposits", "deposit_no"), ("credit-repayments", "repayment_no")):
        assert testapp.post_json(f"/api/v1/cards/{card_no}/{path}", {number: "M1", "amount": "10.00", "tender": "cash",
                                                                    "occurred_at": too_old},
                                 headers=till, status=422).json["fields"] == refused
    assert entries(seed.db) == before
    recent = isoformat(utcnow() - timedelta(days=29))
    testapp.post_json("/api/v1/transactions", {"card_no": card_no, "bill_no": "B2", "amount": "10.00",
                                               "occurred_at": recent}, headers=till, status=201)


def test_a_back_dated_bill_earns_at_the_tier_held_on_its_date(testapp, seed, till):
    from lps_core.members.models import Member, Tier
    from lps_core.tiers.models import TierChange

    card_no = seed.member_card(tier="classic")
    member_id = seed.db.scalar(select(Card.member_id).where(Card.card_no == card_no))
    tier_ids = dict(seed.db.execute(select(Tier.code, Tier.id)).all())
    seed.db.execute(update(Member).where(Member.id == member_id).values(tier_id=tier_ids["gold"]))
    seed.db.execute(insert(TierChange).values(member_id=member_id, old_tier_id=tier_ids["classic"],
                                              new_tier_id=tier_ids["gold"], reason="staff",
                                              created_at=utcnow() - timedelta(days=5)))
    seed.db.commit()
    then = testapp.post_json("/api/v1/transactions", {"card_no": card_no, "bill_no": "B1", "amount": "100.00",
                                                      "occurred_at": isoformat(utcnow() - timedelta(days=10))},
                             headers=till).json
    assert then["points"] == 100 and [line["step"] for line in then["breakdown"]] == ["formula"]
    now = testapp.post_json("/api/v1/transactions", {"card_no": card_no, "bill_no": "B2", "amount": "100.00"},
                            headers=till).json
    assert now["points"] == 150 and now["breakdown"][-1]["rule"] == "gold"


def test_a_back_dated_bill_whose_points_have_expired_creates_no_lot(seed):
    from lps_core.earning.models import Bill
    from lps_core.earning.programme import Programme
    from lps_core.earning.services import EarnRequest, OutletContext, earn_points_for_bill
    from lps_core.ledger.models import PointLot
    from lps_core.outlets.models import Outlet
    from lps_core.tiers.models import MemberActivity

    programme = Programme.from_settings({"lps.rules.cache_seconds": "0", "lps.points.expiry_months": "1",
                                         "lps.postings.max_backdate_days": "60"})
    card_no = seed.member_card()
    rest = OutletContext(seed.db.scalar(select(Outlet.id).where(Outlet.code == "REST")), "REST")
    occurred = utcnow() - timedelta(days=45)
    earned = earn_points_for_bill(seed.db, seed.plugins, programme, rest,
                                  EarnRequest(card_no, "OLD-1", 10000, occurred, ()))
    assert earned.points == 0 and earned.points_balance == 0
    assert earned.breakdown[-1]["step"] == "expired" and earned.breakdown[-1]["points"] == -100
    assert sum(line["points"] for line in earned.breakdown) == 0
    assert seed.db.scalar(select(func.count()).select_from(PointLot)) == 0
    assert seed.db.scalar(select(Bill.points).where(Bill.bill_no == "OLD-1")) == 0
    assert seed.db.scalar(select(MemberActivity.spend_cents)) == 10000  # the spend still counts for tiers
    fresh = earn_points_for_bill(seed.db, seed.plugins, programme, rest,
                                 EarnRequest(card_no, "NEW-1", 10000, utcnow() - timedelta(days=20), ()))
    assert fresh.points == 100 and seed.db.scalar(select(func.count()).select_from(PointLot)) == 1
    assert find_drift(seed.db) == []


# --- 6. Redemption numbers in the ledger and in messages -----------------------------------------

def test_redemption_entries_and_messages_carry_the_redemption_number(testapp, seed, till, rewards_manager):
    card_no = seed.member_card()
    ledger.credit(seed.db, seed.points_account(card_no), 2000, kind=ledger.EARN, business_key="gift",
                  fingerprint="gift", expires_at=utcnow() + timedelta(days=100))
    seed.db.commit()
    testapp.post_json("/api/v1/rewards", {"code": "MUG", "name": "Mug", "category": "item", "cost": "5.00"},
                      headers=rewards_manager)
    made = testapp.post_json("/api/v1/redemptions", {"card_no": card_no, "reward": "MUG", "request_no": "REQ-7",
                                                     "collection": "later"}, headers=till, status=201).json
    number = made["no"]
    assert number.startswith("R") and len(number) == 9
    seed.db.rollback()
    notes = seed.db.scalars(select(LedgerEntry.note).where(LedgerEntry.kind == "redeem")).all()
    assert notes == [f"redemption {number}: reward MUG"]
    typed = str(int(number[1:]))  # staff may type 7 for R00000007
    testapp.post_json(f"/api/v1/redemptions/{typed}/cancel", {"reason": "changed mind"}, headers=till)
    again = testapp.post_json(f"/api/v1/redemptions/{typed}/collect", headers=till, status=409).json
    assert number in str(again) and f"redemption {typed} " not in str(again)
    unknown = testapp.get("/api/v1/redemptions/99", headers=till, status=404).json
    assert "R00000099" in str(unknown)
    seed.db.rollback()
    assert seed.db.scalar(select(LedgerEntry.note).where(LedgerEntry.kind == "reversal")) == \
        f"cancelled redemption {number}"


# --- 5. Refunds take back all of a stay's activity -----------------------------------------------

def test_a_refund_takes_back_the_nights_stays_and_bill_it_counted(seed):
    from lps_core.contract import BillLine
    from lps_core.earning.programme import Programme
    from lps_core.earning.services import EarnRequest, OutletContext, earn_points_for_bill, reverse_bill
    from lps_core.outlets.services import save_outlet
    from lps_core.tiers.models import MemberActivity

    rooms_id = save_outlet(seed.db, seed.plugins, code="ROOMS", name="Rooms", property_code="T", formula="rooms",
                           params={})
    programme = Programme.from_settings({"lps.rules.cache_seconds": "0"})
    card_no = seed.member_card()
    rooms = OutletContext(rooms_id, "ROOMS")
    stay = EarnRequest(card_no, "FOLIO-1", 90000, None, (BillLine("DLX", "room", Decimal(3), 90000),))
    earned = earn_points_for_bill(seed.db, seed.plugins, programme, rooms, stay)

    def activity():
        return tuple(seed.db.execute(select(MemberActivity.points, MemberActivity.spend_cents, MemberActivity.nights,
                                            MemberActivity.stays, MemberActivity.bills)).one())

    assert activity() == (900, 90000, 3, 1, 1)
    reverse_bill(seed.db, seed.plugins, rooms, earned.id, amount_cents=30000, refund_no="R1")  # one night of three
    assert activity() == (600, 60000, 2, 1, 1)
    reverse_bill(seed.db, seed.plugins, rooms, earned.id, amount_cents=45000, refund_no="R2")
    assert activity() == (150, 15000, 1, 1, 1)  # 2.5 nights back in all: whole nights, on running totals
    reverse_bill(seed.db, seed.plugins, rooms, earned.id, refund_no="R3")  # the rest
    assert activity() == (0, 0, 0, 0, 0)
    assert find_drift(seed.db) == []


# --- 3. Rounding once at the end of the chain ----------------------------------------------------

def _chain(plugins, rounding, mode="floor"):
    from lps_core.contract import BillInput
    from lps_core.earning.pipeline import MemberContext, compute_points
    from lps_core.earning.rules import Band, Rule

    rule = Rule(1, 1, 1, utcnow() - timedelta(days=1), "base_rate", {},
                (Band(0, None, Decimal("1.5")),), "bill", None, mode, None)
    member = MemberContext(1, "silver", Decimal("1.2"), "platinum", Decimal("1.1"))
    return compute_points(plugins, rule, BillInput("REST", "B", 12345, utcnow()), member, rounding=rounding)


def test_the_chain_is_exact_and_rounded_once_at_the_end(plugins):
    # 123 base points -> band x1.5 = 184.5 -> silver x1.2 = 221.4 -> card x1.1 = 243.54 -> 243
    once = _chain(plugins, "once")
    assert once.points == 243
    assert [(line["step"], line.get("exact"), line["points"]) for line in once.breakdown] == [
        ("formula", None, 123), ("band", "61.5", 61), ("tier", "36.9", 37), ("card_type", "22.14", 22),
        ("rounding", "-0.54", 0)]
    assert sum(line["points"] for line in once.breakdown) == once.points
    assert sum(Decimal(line.get("exact", line["points"])) for line in once.breakdown) == once.points
    assert once.breakdown[-1]["description"] == "243.54 rounded down to 243, once at the end"
    # Each step floored on its own loses a point: 184, then 220 (220.8), then 242.
    per_step = _chain(plugins, "per_step")
    assert per_step.points == 242
    assert [(line["step"], line["points"]) for line in per_step.breakdown] == [
        ("formula", 123), ("band", 61), ("tier", 36), ("card_type", 22)]
    assert _chain(plugins, "once", "half_up").points == 244


def test_per_step_rounding_is_a_programme_setting(seed):
    from lps_core.earning.programme import Programme
    from lps_core.errors import ConfigurationError

    assert Programme.from_settings({}).rounding == "once"
    assert Programme.from_settings({"lps.earning.rounding": "per_step"}).rounding == "per_step"
    with pytest.raises(ConfigurationError, match="lps.earning.rounding"):
        Programme.from_settings({"lps.earning.rounding": "sometimes"})
