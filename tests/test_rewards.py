"""The rewards catalogue and redemption at the desk, over the API and (for concurrency) the service."""
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lps_core.earning.services import OutletContext
from lps_core.errors import Conflict
from lps_core.ledger import services as ledger
from lps_core.ledger.check import find_drift
from lps_core.ledger.models import LedgerEntry, PointLot
from lps_core.outlets.models import Outlet
from lps_core.rewards import services as rewards
from lps_core.rewards.models import Redemption, Reward
from lps_core.timeutil import isoformat, parse_timestamp, utcnow

MUG = {"code": "MUG", "name": "Hotel mug", "category": "item", "cost": "5.00", "stock": 10}


@pytest.fixture
def manager(seed):
    return {"Authorization": f"Bearer {seed.api_key('REST', scopes=['rewards', 'rewards.manage'])}"}


@pytest.fixture
def desk(seed):
    return {"Authorization": f"Bearer {seed.api_key('REST', scopes=['rewards'])}"}


def give_points(seed, card_no, points, days, key=None):
    account = seed.points_account(card_no)
    ledger.credit(seed.db, account, points, kind=ledger.EARN, business_key=key or f"gift:{card_no}:{days}",
                  fingerprint="gift", expires_at=utcnow() + timedelta(days=days))
    seed.db.commit()
    return account


def add_reward(testapp, manager, **fields):
    return testapp.post_json("/api/v1/rewards", {**MUG, **fields}, headers=manager).json


def redeem(testapp, desk, card_no, request_no, status=201, **fields):
    body = {"card_no": card_no, "reward": "MUG", "request_no": request_no, **fields}
    return testapp.post_json("/api/v1/redemptions", body, headers=desk, status=status).json


def fresh(db, statement):
    db.rollback()  # a new snapshot: see what the app committed
    return db.scalar(statement)


def test_points_price_comes_from_the_cost_unless_overridden(testapp, manager):
    assert add_reward(testapp, manager, cost="12.34")["points_price"] == 1234
    override = add_reward(testapp, manager, code="MUG2", points_price=700)
    assert (override["points_price"], override["points_price_override"], override["cost"]) == (700, 700, "5.00")
    ratio = Decimal("1.5")
    assert rewards.points_price(Reward(cost_cents=333, points_price=None), ratio) == 5  # 4.995 rounded up
    assert rewards.points_price(Reward(cost_cents=400, points_price=None), ratio) == 6
    changed = testapp.put_json("/api/v1/rewards/MUG2", {"points_price": None}, headers=manager).json
    assert changed["points_price"] == 500


def test_the_ratio_setting_is_checked_at_start_up():
    assert rewards.points_ratio({}) == Decimal("100")
    assert rewards.points_ratio({rewards.RATIO_SETTING: "2.5"}) == Decimal("2.5")
    for bad in ("0", "-1", "many", "NaN"):
        with pytest.raises(Exception, match="points_per_currency_unit"):
            rewards.points_ratio({rewards.RATIO_SETTING: bad})


def test_bad_reward_fields_are_all_named(testapp, manager, desk):
    answer = testapp.post_json("/api/v1/rewards", {"code": "bad code!", "category": "car", "cost": "1.234",
                                                   "stock": -1, "colour": "red"}, headers=manager, status=400).json
    assert set(answer["fields"]) == {"code", "name", "category", "cost", "stock", "colour"}
    voucher = testapp.post_json("/api/v1/rewards", {**MUG, "code": "DINNER", "category": "fnb_voucher"},
                                headers=manager, status=422).json
    assert voucher["fields"] == {"voucher_valid_days": "is required for a fnb_voucher"}
    assert testapp.post_json("/api/v1/rewards", {**MUG, "allowed_tiers": ["platinum"]}, headers=manager,
                             status=422).json["fields"]["allowed_tiers"] == "no such tier: platinum"
    testapp.post_json("/api/v1/rewards", MUG, headers=desk, status=403)
    add_reward(testapp, manager)
    testapp.post_json("/api/v1/rewards", MUG, headers=manager, status=409)
    testapp.put_json("/api/v1/rewards/MUG", {"name": "x"}, headers=desk, status=403)
    testapp.put_json("/api/v1/rewards/NOPE", {"name": "x"}, headers=manager, status=404)


def test_the_catalogue_shows_what_can_be_redeemed_now(testapp, manager, desk):
    now = utcnow()
    add_reward(testapp, manager)
    add_reward(testapp, manager, code="OLD", active=False)
    add_reward(testapp, manager, code="SOON", available_from=isoformat(now + timedelta(days=3)))
    add_reward(testapp, manager, code="NIGHT", name="A room night", category="room_night", cost="400.00",
               voucher_valid_days=180, available_to=isoformat(now + timedelta(days=30)))
    listed = testapp.get("/api/v1/rewards", headers=desk).json
    assert [reward["code"] for reward in listed["rewards"]] == ["MUG", "NIGHT"]
    assert listed["points_per_currency_unit"] == "100"
    assert [r["code"] for r in testapp.get("/api/v1/rewards?category=room_night", headers=desk).json["rewards"]] \
        == ["NIGHT"]
    testapp.get("/api/v1/rewards?all=1", headers=desk, status=403)
    everything = testapp.get("/api/v1/rewards?all=1", headers=manager).json["rewards"]
    assert [(r["code"], r["available"]) for r in everything] == [
        ("MUG", True), ("NIGHT", True), ("OLD", False), ("SOON", False)]
    assert testapp.get("/api/v1/rewards/NIGHT", headers=desk).json["points_price"] == 40000
    testapp.get("/api/v1/rewards?category=car", headers=desk, status=400)


def test_redeeming_takes_the_oldest_expiring_lots_first(testapp, seed, manager, desk):
    card_no = seed.member_card()
    account = give_points(seed, card_no, 1000, days=300)
    give_points(seed, card_no, 300, days=20)
    add_reward(testapp, manager)
    answer = redeem(testapp, desk, card_no, "D-1")
    assert (answer["no"], answer["status"], answer["points"], answer["points_balance"]) == \
        ("R00000001", "collected", 500, 800)
    assert answer["collected_at"] and answer["voucher_expires_at"] is None
    seed.db.rollback()
    lots = seed.db.execute(select(PointLot.amount, PointLot.remaining).where(PointLot.account_id == account)
                           .order_by(PointLot.expires_at)).all()
    assert lots == [(300, 0), (1000, 800)]
    assert fresh(seed.db, select(Reward.stock)) == 9
    assert find_drift(seed.db) == []


def test_a_redemption_shows_the_lots_and_earn_entries_it_consumed(testapp, seed, manager, desk):
    card_no = seed.member_card()
    account = give_points(seed, card_no, 200, days=10)
    till = {"Authorization": f"Bearer {seed.api_key('REST', scopes=['transactions'])}"}
    earned = testapp.post_json("/api/v1/transactions", {"card_no": card_no, "bill_no": "B-77", "amount": "500.00"},
                               headers=till, status=201).json
    assert earned["points"] >= 300
    add_reward(testapp, manager)
    answer = redeem(testapp, desk, card_no, "L-1")
    seed.db.rollback()
    lots = seed.db.execute(select(PointLot.id, PointLot.entry_id, PointLot.expires_at).where(PointLot.account_id == account)
                           .order_by(PointLot.expires_at)).all()
    gift_entry = seed.db.scalar(select(LedgerEntry.id).where(LedgerEntry.business_key == f"gift:{card_no}:10"))
    earn_entry = seed.db.scalar(select(LedgerEntry.id).where(LedgerEntry.bill_id == earned["id"]))
    expected = [{"lot_id": lots[0].id, "earn_entry_id": gift_entry, "bill_no": None, "points": 200,
                 "lot_expires_at": isoformat(lots[0].expires_at)},
                {"lot_id": lots[1].id, "earn_entry_id": earn_entry, "bill_no": "B-77", "points": 300,
                 "lot_expires_at": isoformat(lots[1].expires_at)}]
    assert answer["consumed"] == expected
    assert sum(lot["points"] for lot in answer["consumed"]) == answer["points"]
    # The same on a look-up, on the member's list, and after a cancellation (the points went back to these lots).
    assert testapp.get(f"/api/v1/redemptions/{answer['no']}", headers=desk).json["consumed"] == expected
    listed = testapp.get(f"/api/v1/cards/{card_no}/redemptions", headers=desk).json["redemptions"]
    assert listed[0]["consumed"] == expected
    cancelled = testapp.post_json(f"/api/v1/redemptions/{answer['no']}/cancel", {"reason": "changed mind", "force": True},
                                  headers=desk).json
    assert cancelled["consumed"] == expected
    seed.db.rollback()
    assert seed.db.scalars(select(PointLot.remaining).where(PointLot.account_id == account)
                           .order_by(PointLot.expires_at)).all() == [200, earned["points"]]


def test_tiers_and_window_restrict_redemption(testapp, seed, manager, desk):
    classic, gold = seed.member_card(tier="classic"), seed.member_card("Gold Member", tier="gold")
    for card_no in (classic, gold):
        give_points(seed, card_no, 5000, days=100)
    add_reward(testapp, manager, allowed_tiers=["gold", "silver"])
    refused = redeem(testapp, desk, classic, "T-1", status=422)
    assert refused["fields"] == {"reward": "not for the member's tier (classic)"}
    redeem(testapp, desk, gold, "T-2")
    testapp.put_json("/api/v1/rewards/MUG", {"available_to": isoformat(utcnow() - timedelta(minutes=1))},
                     headers=manager)
    assert redeem(testapp, desk, gold, "T-3", status=422)["fields"] == {"reward": "is outside its redemption window"}
    testapp.put_json("/api/v1/rewards/MUG", {"available_to": None, "active": False}, headers=manager)
    assert redeem(testapp, desk, gold, "T-4", status=422)["fields"] == {"reward": "is not active"}


def test_too_few_points_is_a_409_naming_points_and_writes_nothing(testapp, seed, manager, desk):
    card_no = seed.member_card()
    give_points(seed, card_no, 499, days=100)
    add_reward(testapp, manager)
    answer = redeem(testapp, desk, card_no, "P-1", status=409)
    assert answer["code"] == "insufficient_balance"
    assert answer["fields"] == {"points": "needs 500 points, the member has 499"}
    assert fresh(seed.db, select(Reward.stock)) == 10
    assert fresh(seed.db, select(func.count()).select_from(Redemption)) == 0


def test_bad_redemption_fields_are_all_named(testapp, seed, desk):
    answer = testapp.post_json("/api/v1/redemptions", {"quantity": 0, "collection": "tomorrow", "x": 1},
                               headers=desk, status=400).json
    assert set(answer["fields"]) == {"card_no", "reward", "request_no", "quantity", "collection", "x"}
    card_no = seed.member_card()
    assert redeem(testapp, desk, card_no, "N-1", status=404)["fields"] == {"reward": "no such reward"}


def test_stock_runs_out_and_can_be_restocked(testapp, seed, manager, desk):
    card_no = seed.member_card()
    give_points(seed, card_no, 10000, days=100)
    add_reward(testapp, manager, stock=2)
    redeem(testapp, desk, card_no, "S-1", quantity=2)
    assert redeem(testapp, desk, card_no, "S-2", status=409)["fields"] == {"quantity": "more than the stock left"}
    testapp.post_json("/api/v1/rewards/MUG/stock", {"add": 1}, headers=desk, status=403)
    assert testapp.post_json("/api/v1/rewards/MUG/stock", {"add": 0}, headers=manager, status=400).json["fields"]
    assert testapp.post_json("/api/v1/rewards/MUG/stock", {"add": 1}, headers=manager).json["stock"] == 1
    assert redeem(testapp, desk, card_no, "S-3")["points_balance"] == 8500
    unlimited = add_reward(testapp, manager, code="PEN", stock=None)
    assert unlimited["stock"] is None
    testapp.post_json("/api/v1/rewards/PEN/stock", {"add": 1}, headers=manager, status=409)


def test_cancel_gives_back_points_and_stock(testapp, seed, manager, desk):
    card_no = seed.member_card()
    account = give_points(seed, card_no, 800, days=100)
    give_points(seed, card_no, 400, days=10)
    add_reward(testapp, manager)
    later = redeem(testapp, desk, card_no, "C-1", collection="later")
    assert later["points_balance"] == 700
    cancelled = testapp.post_json(f"/api/v1/redemptions/{later['no']}/cancel", {"reason": "changed mind", "force": True},
                                  headers=desk).json
    assert (cancelled["status"], cancelled["cancel_reason"], cancelled["points_balance"]) == \
        ("cancelled", "changed mind", 1200)
    seed.db.rollback()
    assert seed.db.scalars(select(PointLot.remaining).where(PointLot.account_id == account)
                           .order_by(PointLot.expires_at)).all() == [400, 800]
    assert fresh(seed.db, select(Reward.stock)) == 10
    testapp.post_json(f"/api/v1/redemptions/{later['no']}/cancel", {"reason": "again"}, headers=desk, status=409)
    testapp.post_json(f"/api/v1/redemptions/{later['no']}/collect", headers=desk, status=409)

    collected = redeem(testapp, desk, card_no, "C-2")
    refused = testapp.post_json(f"/api/v1/redemptions/{collected['no']}/cancel", {"reason": "returned"},
                                headers=desk, status=409).json
    assert set(refused["fields"]) == {"force"}
    testapp.post_json(f"/api/v1/redemptions/{collected['no']}/cancel", {"reason": "returned", "force": True},
                      headers=desk)
    assert ledger.balance_of(seed.db, account) == 1200
    assert fresh(seed.db, select(Reward.stock)) == 10
    assert testapp.post_json("/api/v1/redemptions/R99/cancel", {"reason": "x"}, headers=desk, status=404).json
    assert testapp.post_json(f"/api/v1/redemptions/{collected['no']}/cancel", {}, headers=desk,
                             status=400).json["fields"] == {"reason": "is required"}
    assert find_drift(seed.db) == []


def test_a_replayed_request_answers_the_first_result(testapp, seed, manager, desk):
    card_no = seed.member_card()
    give_points(seed, card_no, 2000, days=100)
    add_reward(testapp, manager)
    first = redeem(testapp, desk, card_no, "I-1")
    again = redeem(testapp, desk, card_no, "I-1", status=200)
    assert again == {**first, "replayed": True}
    other = redeem(testapp, desk, card_no, "I-1", quantity=2, status=409)
    assert other["fields"] == {"request_no": "already used with other content"}
    seed.db.rollback()
    assert seed.db.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "redeem")) == 1
    assert fresh(seed.db, select(Reward.stock)) == 9


def test_a_voucher_collected_later(testapp, seed, manager, desk):
    card_no = seed.member_card()
    give_points(seed, card_no, 50000, days=100)
    add_reward(testapp, manager, code="DINNER", name="Dinner for two", category="fnb_voucher", cost="300.00",
               voucher_valid_days=90)
    answer = redeem(testapp, desk, card_no, "V-1", reward="DINNER", collection="later")
    assert (answer["status"], answer["collected_at"], answer["points"]) == ("awaiting_pickup", None, 30000)
    expires = parse_timestamp(answer["voucher_expires_at"])
    assert abs(expires - (utcnow() + timedelta(days=90))) < timedelta(minutes=1)
    shown = testapp.get(f"/api/v1/redemptions/{answer['no']}", headers=desk).json
    assert shown["status"] == "awaiting_pickup" and "points_balance" not in shown
    collected = testapp.post_json(f"/api/v1/redemptions/{answer['no']}/collect", headers=desk).json
    assert collected["status"] == "collected" and collected["collected_at"]
    testapp.post_json(f"/api/v1/redemptions/{answer['no']}/collect", headers=desk, status=409)
    testapp.get("/api/v1/redemptions/R00000999", headers=desk, status=404)
    testapp.get("/api/v1/redemptions/nonsense", headers=desk, status=404)


def test_a_members_redemptions_are_paginated_newest_first(testapp, seed, manager, desk):
    card_no = seed.member_card()
    give_points(seed, card_no, 5000, days=100)
    add_reward(testapp, manager)
    for n in range(3):
        redeem(testapp, desk, card_no, f"L-{n}")
    page = testapp.get(f"/api/v1/cards/{card_no}/redemptions?per_page=2", headers=desk).json
    assert (page["total"], [r["request_no"] for r in page["redemptions"]]) == (3, ["L-2", "L-1"])
    page2 = testapp.get(f"/api/v1/cards/{card_no}/redemptions?per_page=2&page=2", headers=desk).json
    assert [r["request_no"] for r in page2["redemptions"]] == ["L-0"]


def test_concurrent_redemptions_of_scarce_stock_never_oversell(seed, engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("row locks under real concurrency: SQLite runs one writer at a time anyway")
    cards = [seed.member_card(f"Member {n}") for n in range(12)]
    for card_no in cards:
        give_points(seed, card_no, 1000, days=100)
    seed.db.add(Reward(code="LAST", name="Last three", category="item", cost_cents=500, stock=3, active=True))
    outlet = OutletContext(seed.db.scalar(select(Outlet.id).where(Outlet.code == "REST")), "REST")
    seed.db.commit()
    barrier = threading.Barrier(len(cards))

    def attempt(card_no):
        request = rewards.RedeemRequest(card_no, "LAST", 1, f"race-{card_no}", True)
        try:
            with Session(engine) as db, db.begin():  # a refusal escapes the block: it rolls back
                barrier.wait()
                return rewards.redeem(db, outlet, request, Decimal("100")).card_no
        except Conflict:
            return None

    with ThreadPoolExecutor(len(cards)) as pool:
        winners = [card_no for card_no in pool.map(attempt, cards) if card_no]
    assert len(winners) == 3
    assert fresh(seed.db, select(Reward.stock)) == 0
    balances = {card_no: ledger.balance_of(seed.db, seed.points_account(card_no)) for card_no in cards}
    assert balances == {card_no: 500 if card_no in winners else 1000 for card_no in cards}
    assert seed.db.scalar(select(func.count()).select_from(Redemption)) == 3
    assert find_drift(seed.db) == []
