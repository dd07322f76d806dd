"""Earning rules: the seed's bands and multipliers, rounding, rule versions, promotions and their
stacking and caps, referral and enrolment bonuses, the configuration API and the preview."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from lps_core.cards.models import CardType
from lps_core.contract import BillInput, BillLine
from lps_core.earning.models import Bill, PromotionAward
from lps_core.earning.pipeline import MemberContext, compute_points
from lps_core.earning.promotions import clean_promotion, view_of
from lps_core.earning.rules import Band, Rule
from lps_core.ledger.models import LedgerEntry

SEED_BANDS = [{"from": "1000.00", "to": "2000.00", "multiplier": "1"},
              {"from": "2000.00", "to": "5000.00", "multiplier": "1.5"},
              {"from": "5000.00", "multiplier": "2"}]
NOW = datetime.now(timezone.utc)


def rule(bands=(), rounding="floor", cap=None, params=None):
    return Rule(1, 1, 1, datetime(1970, 1, 1, tzinfo=timezone.utc), "base_rate", params or {},
                tuple(Band(int(Decimal(b["from"]) * 100), int(Decimal(b["to"]) * 100) if b.get("to") else None,
                           Decimal(b["multiplier"])) for b in bands), "bill", None, rounding, cap)


def bill(amount, items=(), at=NOW, outlet="REST"):
    return BillInput(outlet, "B", int(Decimal(amount) * 100), at, tuple(items))


def promotion(**fields):
    data = {"code": "P", "name": "Promo", "kind": "bonus", "params": {"points": 100},
            "starts_at": (NOW - timedelta(days=1)).isoformat(), "ends_at": (NOW + timedelta(days=1)).isoformat(),
            **fields}
    clean = clean_promotion(data)
    return view_of(type("Row", (), {"id": hash(clean["code"]) % 1000, **clean})())


@pytest.mark.parametrize("amount, points", [
    ("999.99", 999),      # below the first band: no band applies
    ("1000.00", 1000),    # 1000-2000: x1
    ("1999.99", 1999),
    ("2000.00", 3000),    # exactly 2000 starts the x1.5 band
    ("4999.99", 7498),    # 4999 x 1.5 = 7498.5, rounded down
    ("5000.00", 10000),   # exactly 5000 starts the x2 band
    ("8000.00", 16000),
])
def test_the_seed_spend_bands(plugins, amount, points):
    assert compute_points(plugins, rule(SEED_BANDS), bill(amount), MemberContext(1)).points == points


@pytest.mark.parametrize("tier, multiplier, points", [
    ("classic", "1", 1000), ("silver", "1.2", 1200), ("gold", "1.5", 1500), ("diamond", "2", 2000)])
def test_the_seed_tier_multipliers(plugins, tier, multiplier, points):
    member = MemberContext(1, tier, Decimal(multiplier))
    computed = compute_points(plugins, rule(), bill("1000.00"), member)
    assert computed.points == points
    assert sum(step["points"] for step in computed.breakdown) == points


def test_band_then_tier_then_card_type(plugins):
    member = MemberContext(1, "gold", Decimal("1.5"), "platinum-card", Decimal("1.1"))
    computed = compute_points(plugins, rule(SEED_BANDS), bill("3000.00"), member)
    # 3000 base -> x1.5 band = 4500 -> x1.5 gold = 6750 -> x1.1 card = 7425
    assert [(s["step"], s["points"]) for s in computed.breakdown] == [
        ("formula", 3000), ("band", 1500), ("tier", 2250), ("card_type", 675)]
    assert computed.points == 7425


@pytest.mark.parametrize("rounding, points", [("floor", 1501), ("half_up", 1502), ("half_even", 1502)])
def test_rounding_modes(plugins, rounding, points):
    # 1001 x 1.5 = 1501.5
    assert compute_points(plugins, rule(rounding=rounding), bill("1001.00"),
                          MemberContext(1, "gold", Decimal("1.5"))).points == points


def test_half_even_rounds_to_even(plugins):
    # 1003 x 1.5 = 1504.5 -> 1504 (even); half_up gives 1505
    member = MemberContext(1, "gold", Decimal("1.5"))
    assert compute_points(plugins, rule(rounding="half_even"), bill("1003.00"), member).points == 1504
    assert compute_points(plugins, rule(rounding="half_up"), bill("1003.00"), member).points == 1505


def test_cap_per_bill_is_the_last_step(plugins):
    computed = compute_points(plugins, rule(cap=500), bill("1000.00"), MemberContext(1))
    assert computed.points == 500 and computed.breakdown[-1] == {
        "step": "cap", "rule": "max_points_per_bill", "points": -500, "description": "at most 500 points per bill"}


def test_promotions_stack_best_of_and_exclusive(plugins):
    promotions = [
        promotion(code="S1", params={"points": 10}),
        promotion(code="S2", params={"points": 20}),
        promotion(code="B1", stacking="best_of", params={"points": 30}),
        promotion(code="B2", stacking="best_of", params={"points": 40}),
        promotion(code="X1", stacking="exclusive", exclusive_group="g", priority=1, params={"points": 5}),
        promotion(code="X2", stacking="exclusive", exclusive_group="g", priority=0, params={"points": 500}),
    ]
    computed = compute_points(plugins, rule(), bill("100.00"), MemberContext(1), promotions)
    applied = {s["rule"]: s["points"] for s in computed.breakdown if s["step"] == "promotion"}
    assert applied == {"S1": 10, "S2": 20, "B2": 40, "X1": 5}
    assert computed.points == 100 + 75


def test_double_points_on_weekends_only(plugins):
    saturday = datetime(2026, 11, 21, 12, tzinfo=timezone.utc)
    monday = datetime(2026, 11, 23, 12, tzinfo=timezone.utc)
    double = promotion(code="WKND", kind="multiplier", params={"multiplier": "2"}, weekdays=[6, 7],
                       starts_at="2026-11-01T00:00:00Z", ends_at="2026-12-01T00:00:00Z")
    member = MemberContext(1, "gold", Decimal("1.5"))
    assert compute_points(plugins, rule(), bill("100.00", at=saturday), member, [double]).points == 300
    assert compute_points(plugins, rule(), bill("100.00", at=monday), member, [double]).points == 150


def test_product_promotions(plugins):
    items = [BillLine("WINE-1", "wine", Decimal(2), 20000), BillLine("STEAK", "food", Decimal(1), 30000)]
    sku = promotion(code="SKU", kind="sku_bonus", params={"points": 50}, skus=["WINE-1"])
    wine_double = promotion(code="WINE2X", kind="multiplier", params={"multiplier": "2"}, categories=["wine"])
    computed = compute_points(plugins, rule(), bill("500.00", items), MemberContext(1), [sku, wine_double])
    applied = {s["rule"]: s["points"] for s in computed.breakdown if s["step"] == "promotion"}
    assert applied == {"SKU": 100, "WINE2X": 200}  # 2 bottles x 50; wine is 200 of 500 -> 500 x 1 x 0.4


def test_promotion_conditions(plugins):
    gold_only = promotion(code="G", tiers=["gold"])
    spa_only = promotion(code="SPA", outlets=["SPA"])
    expired = promotion(code="OLD", starts_at="2020-01-01T00:00:00Z", ends_at="2020-02-01T00:00:00Z")
    computed = compute_points(plugins, rule(), bill("100.00"), MemberContext(1, "silver", Decimal(1)),
                              [gold_only, spa_only, expired])
    assert [s["step"] for s in computed.breakdown] == ["formula"]


@pytest.mark.parametrize("data, status, fields", [
    ({"ends_at": "2020-01-01T00:00:00Z", "starts_at": "2021-01-01T00:00:00Z"}, 422,
     {"ends_at": "must be after starts_at: the window ends before it starts"}),
    ({"kind": "multiplier", "params": {"multiplier": "1"}}, 422,
     {"params": "multiplier must be a number above 1 and at most 100, e.g. \"2\" for double points"}),
    ({"kind": "multiplier", "params": {"multiplier": 2}}, 422,
     {"params": "multiplier must be a decimal string such as \"2\" (a string, not a JSON number)"}),
    ({"kind": "bonus", "params": {"points": 5, "extra": 1}}, 422, {"params": "extra is not a known field"}),
    ({"stacking": "exclusive"}, 422, {"exclusive_group": "is required for exclusive promotions"}),
    ({"weekdays": [0]}, 400, {"weekdays[0]": "must be a whole number from 1 to 7"}),
    ({"cap_per_member": 100}, 422, {"cap_period": "must be one of: day, month, year, promotion with cap_per_member"}),
    ({"kind": "lottery"}, 422, {"kind": "no plugin provides the promotion kind 'lottery' (installed: bonus, enrolment, "
                                      "first_stay, multiplier, referral, sku_bonus)"}),
    ({"ends_at": "9999-12-31T00:00:00Z"}, 422, None),
])
def test_promotion_validation_names_the_field(data, status, fields):
    from lps_core.errors import LpsError

    with pytest.raises(LpsError) as error:
        promotion(**data)
    assert error.value.status == status
    if fields is None:
        assert set(error.value.fields) == set(data)
    else:
        assert error.value.fields == fields


@settings(max_examples=200, deadline=None)
@given(amount=st.integers(1, 10_000_000), tier=st.sampled_from(["1", "1.2", "1.5", "2", "1.333"]),
       rounding=st.sampled_from(["floor", "half_up", "half_even"]), cap=st.one_of(st.none(), st.integers(1, 50000)),
       bonus=st.integers(1, 1000), multiplier=st.sampled_from(["1.5", "2", "3"]))
def test_the_breakdown_always_adds_up_to_the_points(plugins, amount, tier, rounding, cap, bonus, multiplier):
    promotions = [promotion(code="B", params={"points": bonus}),
                  promotion(code="M", kind="multiplier", params={"multiplier": multiplier})]
    computed = compute_points(plugins, rule(SEED_BANDS, rounding, cap), BillInput("REST", "B", amount, NOW),
                              MemberContext(1, "t", Decimal(tier)), promotions)
    assert sum(step["points"] for step in computed.breakdown) == computed.points >= 0
    assert cap is None or computed.points <= cap


# Through the API and the database.

@pytest.fixture
def admin(seed):
    return {"Authorization": f"Bearer {seed.api_key('REST')}"}


def post_bill(testapp, auth, card_no, bill_no, amount, status=201, **extra):
    return testapp.post_json("/api/v1/transactions", {"card_no": card_no, "bill_no": bill_no, "amount": amount,
                                                      **extra}, headers=auth, status=status).json


def test_a_new_rule_version_applies_from_its_date_and_never_changes_history(testapp, seed, admin):
    card_no = seed.member_card()
    before = post_bill(testapp, admin, card_no, "B1", "3000.00")
    assert before["points"] == 3000
    version = testapp.post_json("/api/v1/outlets/REST/rules", {"bands": SEED_BANDS}, headers=admin, status=201).json
    assert (version["version"], version["formula"]) == (2, "base_rate")
    after = post_bill(testapp, admin, card_no, "B2", "3000.00")
    assert after["points"] == 4500
    late = post_bill(testapp, admin, card_no, "B0", "3000.00",
                     occurred_at=(datetime.now(timezone.utc) - timedelta(days=1)).isoformat())
    assert late["points"] == 3000  # earned under version 1, in force at its occurred_at
    stored = dict(seed.db.execute(select(Bill.bill_no, Bill.points)).all())
    seed.db.commit()  # on SQLite an open transaction holds the write lock the app needs
    assert stored == {"B1": 3000, "B2": 4500, "B0": 3000}
    versions = testapp.get("/api/v1/outlets/REST/rules", headers=admin).json["versions"]
    assert [v["version"] for v in versions] == [1, 2]


@pytest.mark.parametrize("body, status, fields", [
    ({"bands": [{"from": "0", "to": "2000", "multiplier": "1"}, {"from": "1500", "multiplier": "2"}]}, 422,
     {"bands": "overlap at 1500.00"}),
    ({"bands": [{"from": "3000", "to": "2000", "multiplier": "1"}]}, 422,
     {"bands[0].to": "ends (2000.00) before it starts (3000.00)"}),
    ({"bands": [{"from": "0", "multiplier": 2}]}, 400,
     {"bands[0].multiplier": 'must be a decimal string such as "1.5" (a string, not a JSON number)'}),
    ({"bands": [{"from": "0", "multiplier": "101"}]}, 400, {"bands[0].multiplier": "must be from 0 to 100"}),
    ({"formula": "moon_phase"}, 422, {"formula": "no plugin provides the earning formula 'moon_phase'"}),
    ({"formula_params": {"points_per_unit": "-1"}}, 422, {"formula_params": "points_per_unit must be greater than 0"}),
    ({"rounding": "up"}, 400, {"rounding": "must be one of: floor, half_up, half_even"}),
    ({"band_basis": "period_spend"}, 422,
     {"band_period": "must be one of: month, year when band_basis is period_spend"}),
    ({"max_points_per_bill": 0}, 400, {"max_points_per_bill": "must be a whole number from 1 to 1000000000000"}),
    ({"effective_from": "1969-12-31T00:00:00Z"}, 422, None),
])
def test_rule_validation_names_the_field(testapp, admin, body, status, fields):
    answer = testapp.post_json("/api/v1/outlets/REST/rules", body, headers=admin, status=status).json
    if fields is None:
        assert answer["fields"]["effective_from"].startswith("must lie between 2000-01-01 and ")
    else:
        assert {k: v.split(" (installed")[0] for k, v in answer["fields"].items()} == fields


def test_a_version_may_not_take_effect_before_the_latest(testapp, admin):
    testapp.post_json("/api/v1/outlets/REST/rules", {"effective_from": "2030-01-01T00:00:00Z"}, headers=admin,
                      status=201)
    answer = testapp.post_json("/api/v1/outlets/REST/rules", {"effective_from": "2029-12-31T00:00:00+08:00"},
                               headers=admin, status=409).json
    assert answer["fields"]["effective_from"].startswith("must be at or after")


def test_configuration_needs_the_rules_scope(testapp, seed):
    till = {"Authorization": f"Bearer {seed.api_key('REST', scopes=('transactions',))}"}
    testapp.get("/api/v1/promotions", headers=till, status=403)
    testapp.post_json("/api/v1/outlets/REST/rules", {"bands": []}, headers=till, status=403)


def test_a_promotion_created_over_the_api_applies_and_is_capped_per_member(testapp, seed, admin):
    card_no = seed.member_card()
    testapp.post_json("/api/v1/promotions", {
        "code": "WELCOME100", "name": "100 bonus points", "kind": "bonus", "params": {"points": 100},
        "starts_at": (NOW - timedelta(days=1)).isoformat(), "ends_at": (NOW + timedelta(days=30)).isoformat(),
        "cap_per_member": 150, "cap_period": "promotion",
    }, headers=admin, status=201)
    points = [post_bill(testapp, admin, card_no, f"B{n}", "10.00")["points"] for n in range(3)]
    assert points == [110, 60, 10]
    assert seed.db.scalar(select(func.sum(PromotionAward.points))) == 150
    seed.db.commit()
    testapp.patch_json("/api/v1/promotions/WELCOME100", {"active": False}, headers=admin)
    testapp.post_json("/api/v1/promotions", {"code": "WELCOME100", "name": "again", "kind": "bonus",
                                             "params": {"points": 1}, "starts_at": NOW.isoformat(),
                                             "ends_at": (NOW + timedelta(days=1)).isoformat()},
                      headers=admin, status=409)


def test_first_stay_bonus_only_on_the_first_bill(testapp, seed, admin):
    card_no = seed.member_card()
    testapp.post_json("/api/v1/promotions", {
        "code": "FIRST", "name": "First stay", "kind": "first_stay", "params": {"points": 500},
        "starts_at": (NOW - timedelta(days=1)).isoformat(), "ends_at": (NOW + timedelta(days=1)).isoformat(),
    }, headers=admin)
    assert post_bill(testapp, admin, card_no, "B1", "10.00")["points"] == 510
    assert post_bill(testapp, admin, card_no, "B2", "10.00")["points"] == 10


def test_referral_bonus_for_two_levels_on_the_first_qualifying_bill(testapp, seed, admin):
    testapp.post_json("/api/v1/promotions", {
        "code": "REFER", "name": "Refer a friend", "kind": "referral", "params": {"levels": [300, 50],
                                                                                   "min_amount": "50.00"},
        "starts_at": (NOW - timedelta(days=1)).isoformat(), "ends_at": (NOW + timedelta(days=1)).isoformat(),
    }, headers=admin)
    grandparent = seed.member_card("Grandparent")

    def enrol(name, referrer, phone):
        member = testapp.post_json("/api/v1/members", {"name": name, "phone": phone, "channel": "web",
                                                       "referrer_card_no": referrer}, headers=admin, status=201).json
        return testapp.post_json(f"/api/v1/members/{member['id']}/approve", {}, headers=admin).json["card_no"]

    parent = enrol("Parent", grandparent, "+8613800000001")
    child = enrol("Child", parent, "+8613800000002")
    post_bill(testapp, admin, child, "C1", "20.00")    # below min_amount: no referral yet
    post_bill(testapp, admin, child, "C2", "80.00")    # first qualifying bill
    post_bill(testapp, admin, child, "C3", "80.00")    # not again

    def balance(card):
        return testapp.get(f"/api/v1/cards/{card}", headers=admin).json["points_balance"]

    assert (balance(parent), balance(grandparent)) == (300, 50)
    error = testapp.post_json("/api/v1/members", {"name": "X", "phone": "+8613800000001", "channel": "web",
                                                  "referrer_card_no": "8800999999999995"}, headers=admin,
                              status=(400, 422)).json
    assert "referrer_card_no" in error["fields"]


def test_enrolment_bonus_at_approval(testapp, seed, admin):
    testapp.post_json("/api/v1/promotions", {
        "code": "JOIN", "name": "Join bonus", "kind": "enrolment", "params": {"points": 200},
        "starts_at": (NOW - timedelta(days=1)).isoformat(), "ends_at": (NOW + timedelta(days=1)).isoformat(),
    }, headers=admin)
    member = testapp.post_json("/api/v1/members", {"name": "N", "email": "n@example.com", "channel": "desk"},
                               headers=admin).json
    card_no = testapp.post_json(f"/api/v1/members/{member['id']}/approve", {}, headers=admin).json["card_no"]
    ledger = testapp.get(f"/api/v1/cards/{card_no}/ledger", headers=admin).json
    assert [(e["kind"], e["amount"]) for e in ledger["entries"]] == [("bonus", 200)]


def test_period_spend_bands_use_the_month_so_far(testapp, seed, admin):
    card_no = seed.member_card()
    testapp.post_json("/api/v1/outlets/REST/rules", {
        "bands": [{"from": "0", "to": "1000.00", "multiplier": "1"}, {"from": "1000.00", "multiplier": "2"}],
        "band_basis": "period_spend", "band_period": "month"}, headers=admin, status=201)
    first = post_bill(testapp, admin, card_no, "B1", "600.00")
    second = post_bill(testapp, admin, card_no, "B2", "600.00")  # 1200 this month: the x2 band
    assert (first["points"], second["points"]) == (600, 1200)
    assert "spend this month: 1200.00" in second["breakdown"][1]["description"]


def test_preview_posts_nothing_and_explains(testapp, seed, admin):
    seed.db.execute(update(CardType).values(points_multiplier=Decimal("1.1")))
    seed.db.commit()
    answer = testapp.post_json("/api/v1/preview", {"amount": "2000.00", "tier": "gold", "card_type": "standard"},
                               headers=admin).json
    assert answer["points"] == 3300 and [s["step"] for s in answer["breakdown"]] == ["formula", "tier", "card_type"]
    assert seed.db.scalar(select(func.count()).select_from(LedgerEntry)) == 0
    spa = testapp.post_json("/api/v1/preview", {"amount": "10.00", "outlet": "SPA"}, headers=admin).json
    assert spa["points"] == 20
    unknown = testapp.post_json("/api/v1/preview", {"amount": "10.00", "tier": "platinum"}, headers=admin, status=422)
    assert unknown.json["fields"] == {"tier": "no such tier"}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=st.lists(st.integers(1, 500_000), min_size=1, max_size=4),
       multiplier=st.sampled_from(["0", "0.5", "2", "3"]))
def test_a_rule_change_never_alters_posted_history(seed, plugins, first, multiplier):
    """Bills posted under one version keep their points, entries and lots whatever a later version says."""
    from lps_core.earning.programme import Programme
    from lps_core.earning.rules import add_rule_version, clean_rule, outlet_id_of
    from lps_core.earning.services import EarnRequest, OutletContext, earn_points_for_bill
    from lps_core.ledger.check import find_drift

    db = seed.db
    programme = Programme.from_settings({"lps.rules.cache_seconds": "0"})
    outlet = OutletContext(outlet_id_of(db, "REST"), "REST")
    card_no = seed.member_card()
    prefix = f"H{seed.points_account(card_no)}-"
    for n, cents in enumerate(first):
        earn_points_for_bill(db, plugins, programme, outlet, EarnRequest(card_no, f"{prefix}{n}", cents, None, ()))
    db.commit()
    snapshot = db.execute(select(LedgerEntry.id, LedgerEntry.amount, LedgerEntry.balance_after,
                                 LedgerEntry.breakdown).order_by(LedgerEntry.id)).all()
    add_rule_version(db, outlet.id, clean_rule(plugins, {
        "formula": "base_rate", "bands": [{"from": "0", "multiplier": multiplier}]}))
    earn_points_for_bill(db, plugins, programme, outlet, EarnRequest(card_no, f"{prefix}new", 100_00, None, ()))
    db.commit()
    assert db.execute(select(LedgerEntry.id, LedgerEntry.amount, LedgerEntry.balance_after, LedgerEntry.breakdown)
                      .where(LedgerEntry.id <= snapshot[-1].id).order_by(LedgerEntry.id)).all() == snapshot
    assert find_drift(db) == []


def test_a_bill_counts_as_activity_and_a_refund_takes_it_back(testapp, seed, admin):
    from lps_core.members.models import Member
    from lps_core.tiers.models import MemberActivity

    card_no = seed.member_card()
    at = (datetime.now(timezone.utc) - timedelta(days=3)).replace(microsecond=0)
    earned = post_bill(testapp, admin, card_no, "A1", "250.00", occurred_at=at.isoformat())
    testapp.post_json(f"/api/v1/transactions/{earned['id']}/reversal", {"amount": "50.00"}, headers=admin)
    row = seed.db.execute(select(MemberActivity.month, MemberActivity.points, MemberActivity.spend_cents,
                                 MemberActivity.bills)).one()
    assert tuple(row) == (at.date().replace(day=1), 200, 20000, 1)
    touched = seed.db.scalar(select(Member.last_activity_at))
    assert touched.replace(tzinfo=timezone.utc) == at
