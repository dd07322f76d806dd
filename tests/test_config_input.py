"""Hostile input to the earning configuration API (rule versions, promotions, the preview) and to the
rewards API: each answer is a 4xx problem naming the field, nothing is stored and the ledger is
unchanged. And the two dates that used to break an installation for good: a promotion ending
9999-12-31 and a rule effective 9999-12-31 are refused, over the API and on the screens."""
import json

import pytest
from sqlalchemy import func, select

from lps_core.earning.models import EarningRule, Promotion
from lps_core.ledger.models import LedgerEntry
from lps_core.rewards.models import Redemption, Reward
from lps_core.testing import sign_in_as

PROMOTION = {"code": "DOUBLE", "name": "Double points", "kind": "multiplier", "params": {"multiplier": "2"},
             "starts_at": "2026-01-01T00:00:00+08:00", "ends_at": "2030-01-01T00:00:00+08:00"}
MUG = {"code": "MUG", "name": "Hotel mug", "category": "item", "cost": "5.00", "stock": 10}


@pytest.fixture
def admin(seed):
    return {"Authorization": f"Bearer {seed.api_key('REST')}"}


@pytest.fixture
def manager(seed):
    return {"Authorization": f"Bearer {seed.api_key('REST', scopes=['rewards', 'rewards.manage'])}"}


def stored(db):
    """What the configuration and the ledger hold, to compare before and after a refused request."""
    db.rollback()
    counts = tuple(db.scalar(select(func.count()).select_from(table))
                   for table in (EarningRule, Promotion, LedgerEntry, Reward, Redemption))
    db.rollback()
    return counts


def refused(testapp, method, path, body, headers, status, field):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    answer = testapp.request(path, method=method, body=raw, headers={**headers, "Content-Type": "application/json"},
                             expect_errors=True)
    assert answer.status_int == status, (path, body if not isinstance(body, bytes) else body[:80], answer.text[:400])
    assert answer.content_type == "application/problem+json"
    assert field in answer.json["fields"], (field, answer.json)
    return answer.json["fields"][field]


DEEP = {"a": "1"}
for _ in range(40):
    DEEP = {"a": DEEP}


@pytest.mark.parametrize("body, status, field", [
    ({"bands": [{"from": 0, "multiplier": "1"}]}, 400, "bands[0].from"),
    ({"bands": [{"from": "1e300000", "multiplier": "1"}]}, 400, "bands[0].from"),
    ({"bands": [{"from": "10.", "multiplier": "1"}]}, 400, "bands[0].from"),
    ({"bands": [{"from": ".5", "multiplier": "1"}]}, 400, "bands[0].from"),
    ({"bands": [{"from": " 1", "multiplier": "1"}]}, 400, "bands[0].from"),
    ({"bands": [{"from": "+1", "multiplier": "1"}]}, 400, "bands[0].from"),
    ({"bands": [{"from": "１２", "multiplier": "1"}]}, 400, "bands[0].from"),
    ({"bands": [{"from": "0", "multiplier": "1e3"}]}, 400, "bands[0].multiplier"),
    ({"bands": [{"from": "0", "multiplier": "NaN"}]}, 400, "bands[0].multiplier"),
    ({"bands": [{"from": "0"}]}, 400, "bands[0].multiplier"),
    ({"bands": [{"from": "0", "multiplier": "1"}] * 51}, 400, "bands"),
    ({"note": "a\x00b"}, 400, "note"),
    ({"note": "x" * 501}, 400, "note"),
    ({"note": "\ud800"}, 400, "body"),  # a lone surrogate is not valid JSON text
    ({"max_points_per_bill": 2**63}, 400, "max_points_per_bill"),
    ({"max_points_per_bill": True}, 400, "max_points_per_bill"),
    ({"formula": "base rate"}, 400, "formula"),
    ({"formula_params": []}, 400, "formula_params"),
    ({"formula_params": {f"p{n}": 1 for n in range(33)}}, 400, "formula_params"),
    ({"formula_params": {"points_per_unit": {"a": {"b": {"c": 1}}}}}, 400, "formula_params"),
    ({"formula_params": {"points_per_unit": "x" * 201}}, 400, "formula_params"),
    ({"formula_params": {"points_per_unit": "1e300000"}}, 400, "formula_params"),
    ({"formula_params": {"points_per_unit": 1e300}}, 400, "formula_params"),
    ({"formula_params": {"points_per_unit": "a\x00"}}, 400, "formula_params"),
    ({"formula_params": {"points_per_unit": "0"}}, 422, "formula_params"),
    ({"formula_params": {"moon": "1"}}, 422, "formula_params"),
    ({"formula_params": DEEP}, 400, "body"),
    ({"effective_from": "9999-12-31T00:00:00Z"}, 422, "effective_from"),
    ({"effective_from": "2026-05-01T10:00:00"}, 400, "effective_from"),
    ({"effective_from": 20260501}, 400, "effective_from"),
    ({"rounding": None, "surprise": 1}, 400, "surprise"),
])
def test_hostile_rule_versions_are_refused_naming_the_field(testapp, seed, admin, body, status, field):
    before = stored(seed.db)
    refused(testapp, "POST", "/api/v1/outlets/REST/rules", body, admin, status, field)
    assert stored(seed.db) == before


@pytest.mark.parametrize("change, status, field", [
    ({"ends_at": "9999-12-31T23:59:59Z"}, 422, "ends_at"),
    ({"ends_at": "9999-12-31T23:59:59-05:00"}, 422, "ends_at"),
    ({"starts_at": "1999-12-31T23:59:59Z"}, 422, "starts_at"),
    ({"ends_at": "2030-02-30T00:00:00Z"}, 400, "ends_at"),
    ({"code": "DOUBLE POINTS"}, 400, "code"),
    ({"code": "x" * 33}, 400, "code"),
    ({"name": "a\x00b"}, 400, "name"),
    ({"name": "x" * 201}, 400, "name"),
    ({"name": ""}, 400, "name"),
    ({"params": {"multiplier": 2}}, 422, "params"),
    ({"params": {"multiplier": "1e300000"}}, 400, "params"),
    ({"params": {"multiplier": "101"}}, 422, "params"),
    ({"kind": "bonus", "params": {"points": 2**63}}, 400, "params"),
    ({"kind": "bonus", "params": {"points": 0}}, 422, "params"),
    ({"kind": "bonus", "params": {"points": True}}, 422, "params"),
    ({"kind": "referral", "params": {"levels": [1, 2, 3, 4, 5, 6]}}, 422, "params"),
    ({"kind": "first_stay", "params": {"points": 5, "min_amount": "10."}}, 422, "params"),
    ({"weekdays": [8]}, 400, "weekdays[0]"),
    ({"weekdays": [True]}, 400, "weekdays[0]"),
    ({"weekdays": []}, 400, "weekdays"),
    ({"outlets": ["REST"] * 101}, 400, "outlets"),
    ({"outlets": ["a\x00"]}, 400, "outlets[0]"),
    ({"priority": 2**31}, 400, "priority"),
    ({"priority": 1.5}, 400, "priority"),
    ({"cap_per_bill": 0}, 400, "cap_per_bill"),
    ({"stacking": "exclusive"}, 422, "exclusive_group"),
    ({"cap_per_member": 10}, 422, "cap_period"),
    ({"active": "yes"}, 400, "active"),
    ({"params": DEEP}, 400, "body"),
])
def test_hostile_promotions_are_refused_naming_the_field(testapp, seed, admin, change, status, field):
    before = stored(seed.db)
    refused(testapp, "POST", "/api/v1/promotions", {**PROMOTION, **change}, admin, status, field)
    assert stored(seed.db) == before
    testapp.post_json("/api/v1/promotions", PROMOTION, headers=admin, status=201)
    if "code" not in change:
        refused(testapp, "PATCH", "/api/v1/promotions/DOUBLE", change, admin, status, field)
    assert testapp.get("/api/v1/promotions/DOUBLE", headers=admin).json["params"] == {"multiplier": "2"}


@pytest.mark.parametrize("path", ["/api/v1/promotions/99999999999", "/api/v1/promotions/a%20b",
                                  "/api/v1/promotions/" + "x" * 33, "/api/v1/outlets/a%20b/rules",
                                  "/api/v1/outlets/NOWHERE/rules", "/api/v1/rewards/a%20b",
                                  "/api/v1/redemptions/abc", "/api/v1/redemptions/99999999999",
                                  "/api/v1/redemptions/R99999999999"])
def test_bad_configuration_and_reward_paths_answer_404(testapp, seed, admin, manager, path):
    headers = manager if "/re" in path else admin
    answer = testapp.get(path, headers=headers, status=404)
    assert answer.content_type == "application/problem+json"


@pytest.mark.parametrize("change, status, field", [
    ({"amount": 10}, 400, "amount"),
    ({"amount": "1e300000"}, 400, "amount"),
    ({"amount": "１０"}, 400, "amount"),
    ({"amount": "10."}, 400, "amount"),
    ({"outlet": "NOWHERE"}, 404, "outlet"),
    ({"outlet": 5}, 400, "outlet"),
    ({"tier": "platinum"}, 422, "tier"),
    ({"card_type": "a\x00"}, 400, "card_type"),
    ({"items": [{"sku": "A", "amount": "20.00"}]}, 422, "items"),
    ({"items": [{"sku": "A", "amount": "1.00", "qty": 2**31}]}, 400, "items[0].qty"),
    ({"items": [{"sku": "A", "amount": "1.00", "qty": "100001"}]}, 422, "items[0].qty"),
    ({"occurred_at": "2099-01-01T00:00:00Z"}, 422, "occurred_at"),
    ({"bill_no": "B1"}, 400, "bill_no"),
])
def test_hostile_previews_are_refused_naming_the_field(testapp, seed, admin, change, status, field):
    before = stored(seed.db)
    refused(testapp, "POST", "/api/v1/preview", {"amount": "10.00", **change}, admin, status, field)
    assert stored(seed.db) == before


@pytest.mark.parametrize("change, status, field", [
    ({"cost": 5}, 400, "cost"),
    ({"cost": "1e300000"}, 400, "cost"),
    ({"cost": " 5.00"}, 400, "cost"),
    ({"cost": ".5"}, 400, "cost"),
    ({"code": "a b"}, 400, "code"),
    ({"name": "a\x00b"}, 400, "name"),
    ({"name": "x" * 201}, 400, "name"),
    ({"stock": 2**31}, 400, "stock"),
    ({"stock": True}, 400, "stock"),
    ({"points_price": 0}, 400, "points_price"),
    ({"voucher_valid_days": 3651}, 400, "voucher_valid_days"),
    ({"available_to": "9999-12-31T00:00:00Z"}, 422, "available_to"),
    ({"allowed_tiers": []}, 400, "allowed_tiers"),
    ({"allowed_tiers": ["platinum"]}, 422, "allowed_tiers"),
    ({"category": "car"}, 400, "category"),
    ({"category": "room_night"}, 422, "voucher_valid_days"),
])
def test_hostile_rewards_are_refused_naming_the_field(testapp, seed, manager, change, status, field):
    before = stored(seed.db)
    refused(testapp, "POST", "/api/v1/rewards", {**MUG, **change}, manager, status, field)
    assert stored(seed.db) == before


@pytest.mark.parametrize("body, status, field", [
    ({"quantity": 2**31}, 400, "quantity"),
    ({"quantity": True}, 400, "quantity"),
    ({"card_no": 8800000000000001}, 400, "card_no"),
    ({"request_no": "a\x00"}, 400, "request_no"),
    ({"request_no": "x" * 65}, 400, "request_no"),
    ({"reward": "MUG\x00"}, 400, "reward"),
    ({"collection": "tomorrow"}, 400, "collection"),
])
def test_hostile_redemptions_are_refused_and_write_nothing(testapp, seed, manager, body, status, field):
    card_no = seed.member_card()
    testapp.post_json("/api/v1/rewards", MUG, headers=manager, status=201)
    before = stored(seed.db)
    refused(testapp, "POST", "/api/v1/redemptions", {"card_no": card_no, "reward": "MUG", "request_no": "Q1", **body},
            manager, status, field)
    assert stored(seed.db) == before
    refused(testapp, "POST", "/api/v1/rewards/MUG/stock", {"add": 2**31}, manager, 400, "add")
    refused(testapp, "GET", "/api/v1/rewards?category=car", b"", manager, 400, "category")
    refused(testapp, "GET", f"/api/v1/cards/{card_no}/redemptions?page=99999999999", b"", manager, 400, "page")


def test_a_restock_that_would_overflow_the_stock_is_refused(testapp, seed, manager):
    testapp.post_json("/api/v1/rewards", {**MUG, "stock": 2**31 - 10}, headers=manager, status=201)
    assert refused(testapp, "POST", "/api/v1/rewards/MUG/stock", {"add": 100}, manager, 422, "add")
    assert testapp.post_json("/api/v1/rewards/MUG/stock", {"add": 9}, headers=manager).json["stock"] == 2**31 - 1


def test_a_promotion_ending_in_9999_is_refused_and_the_promotions_screen_keeps_working(testapp, seed, admin):
    """Regression: such a promotion used to be stored, and /config/promotions answered 500 from then on."""
    refused(testapp, "POST", "/api/v1/promotions", {**PROMOTION, "ends_at": "9999-12-31T23:59:59Z"}, admin, 422,
            "ends_at")
    testapp.post_json("/api/v1/promotions", PROMOTION, headers=admin, status=201)
    refused(testapp, "PATCH", "/api/v1/promotions/DOUBLE", {"ends_at": "9999-12-31T00:00:00Z"}, admin, 422, "ends_at")
    assert seed.db.scalar(select(func.count()).select_from(Promotion)) == 1
    token = sign_in_as(testapp, seed, "boss", "admin-pass-123", ("administrator",), ("all",))
    page = testapp.post("/config/promotions/new", {
        "csrf_token": token, "code": "FOREVER", "name": "Forever", "kind": "multiplier",
        "params": '{"multiplier": "2"}', "starts_at": "2026-01-01T00:00", "ends_at": "9999-12-31T00:00",
        "stacking": "stack", "priority": "0", "active": "1"}, status=400)
    assert page.html.select_one("#ends_at")["aria-invalid"] == "true"
    testapp.post("/config/promotions/DOUBLE", {
        "csrf_token": token, "name": "Double", "kind": "multiplier", "params": '{"multiplier": "2"}',
        "starts_at": "2026-01-01T00:00", "ends_at": "9999-12-31T00:00", "stacking": "stack", "priority": "0",
        "active": "1"}, status=400)
    assert "DOUBLE" in testapp.get("/config/promotions").text
    assert testapp.get("/api/v1/promotions", headers=admin).json["promotions"][0]["ends_at"].startswith("2029-12-31")


def test_a_rule_effective_in_9999_is_refused_and_the_outlet_keeps_earning(testapp, seed, admin):
    """Regression: such a version used to be stored, and no later version could ever be added."""
    refused(testapp, "POST", "/api/v1/outlets/REST/rules", {"effective_from": "9999-12-31T00:00:00Z"}, admin, 422,
            "effective_from")
    token = sign_in_as(testapp, seed, "boss", "admin-pass-123", ("administrator",), ("all",))
    page = testapp.post("/config/outlets/REST/rules", {
        "csrf_token": token, "formula": "base_rate", "band_basis": "bill", "rounding": "floor",
        "effective_from": "9999-12-31T00:00"}, status=400)
    assert page.html.select_one("#effective_from")["aria-invalid"] == "true"
    version = testapp.post_json("/api/v1/outlets/REST/rules", {"note": "still open"}, headers=admin, status=201).json
    assert version["version"] == 2
    till = {"Authorization": f"Bearer {seed.api_key('REST', scopes=['transactions'])}"}
    testapp.post_json("/api/v1/transactions", {"card_no": seed.member_card(), "bill_no": "B1", "amount": "10.00"},
                      headers=till, status=201)


def test_the_screens_bound_free_form_parameters_like_the_api(testapp, seed):
    token = sign_in_as(testapp, seed, "boss", "admin-pass-123", ("administrator",), ("all",))
    form = {"csrf_token": token, "formula": "base_rate", "band_basis": "bill", "rounding": "floor"}
    for params in ('{"points_per_unit": "1e300000"}', json.dumps(DEEP), '{"points_per_unit": "x"}'):
        page = testapp.post("/config/outlets/REST/rules", {**form, "formula_params": params}, status=400)
        assert page.html.select_one("#formula_params")["aria-invalid"] == "true", params
    page = testapp.post("/config/outlets/REST/rules", {**form, "bands": '[{"from": "10.", "multiplier": "1"}]'},
                        status=400)
    assert page.html.select_one("#bands")["aria-invalid"] == "true"
    assert len(testapp.get("/config/outlets/REST/rules").html.select("table.rules tbody tr")) == 1
