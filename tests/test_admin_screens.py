"""The configuration, operator and audit screens: happy paths, errors beside the field, CSRF,
outlet scope, and an audit entry for every write. Both databases."""

import pytest
from sqlalchemy import select

from lps_core.operators import services as operators
from lps_core.operators.models import Operator
from lps_core.operators.services import create_operator
from lps_core.outlets.models import Outlet
from lps_core.testing import audited as audited_entries
from lps_core.testing import sign_in_as

PASSWORD = "admin-pass-123"


def sign_in(testapp, seed, username="boss", roles=("administrator",), outlets=("all",)):
    return sign_in_as(testapp, seed, username, PASSWORD, roles, outlets)


def audited(seed, action):
    return audited_entries(seed.db, action)


@pytest.fixture
def admin(testapp, seed):
    return sign_in(testapp, seed)


# --- Operators ---------------------------------------------------------------------------------------

def test_create_an_operator_then_change_roles_reset_the_password_and_disable(testapp, seed, admin):
    page = testapp.post("/operators/new", {"csrf_token": admin, "username": "carol", "display_name": "Carol",
                                           "password": "secret-word-123", "roles": "cashier", "outlets": "REST"},
                        status=303).follow()
    assert "Operator created." in page.text and "Carol" in page.text
    carol = seed.db.scalar(select(Operator.id).where(Operator.username == "carol"))
    testapp.post(f"/operators/{carol}", {"csrf_token": admin, "roles": ["cashier", "front_desk"], "outlets": "REST, SPA"},
                 status=303)
    change = audited(seed, "operator.roles")[-1]
    assert change.before["roles"] == ["cashier"] and change.after["roles"] == ["cashier", "front_desk"]
    assert change.after["outlets"] == ["REST", "SPA"] and change.actor_name == "boss"
    testapp.post(f"/operators/{carol}/password", {"csrf_token": admin, "password": "temp-pass-456"}, status=303)
    testapp.post(f"/operators/{carol}/active", {"csrf_token": admin, "active": "0"}, status=303)
    assert audited(seed, "operator.disable")[-1].after == {"active": False}
    row = seed.db.get(Operator, carol)
    assert row.must_change_password and not row.active
    rows = testapp.get("/operators", {"q": "car", "sort": "username"}).html.select("tbody tr")
    assert len(rows) == 1 and "carol" in rows[0].text and "disabled" in rows[0].text
    assert [row.select_one("a").text for row in testapp.get("/operators", {"role": "front_desk"}).html.select("tbody tr")] \
        == ["carol"]


def test_operator_errors_are_shown_beside_their_fields(testapp, seed, admin):
    page = testapp.post("/operators/new", {"csrf_token": admin, "username": "bad name", "password": "short",
                                           "outlets": "NOWHERE"}, status=400)
    assert page.html.select_one("#username")["aria-invalid"] == "true"
    assert "must be at least 10 characters" in page.text and "name at least one role" in page.text
    assert "no outlet or property NOWHERE" in page.text
    own = seed.db.scalar(select(Operator.id).where(Operator.username == "boss"))
    assert "cannot disable your own" in testapp.post(f"/operators/{own}/active", {"csrf_token": admin, "active": "0"},
                                                     status=400).text


def test_a_form_without_its_csrf_token_is_refused(testapp, seed, admin):
    testapp.post("/operators/new", {"username": "dave", "password": "secret-word-789", "roles": "cashier",
                                    "outlets": "REST"}, status=400)
    assert seed.db.scalar(select(Operator.id).where(Operator.username == "dave")) is None


def test_only_operators_of_every_outlet_change_operators(testapp, seed):
    token = sign_in(testapp, seed, "local.admin", outlets=("REST",))
    testapp.post("/operators/new", {"csrf_token": token, "username": "eve", "password": "secret-word-456",
                                    "roles": "administrator", "outlets": "all"}, status=403)


# --- Audit log ---------------------------------------------------------------------------------------

def test_the_audit_log_is_searchable_and_shows_before_and_after(testapp, seed, admin):
    carol = create_operator(seed.db, "carol", "secret-word-123", roles=["cashier"], outlets=["REST"])
    seed.db.commit()
    testapp.post(f"/operators/{carol}", {"csrf_token": admin, "roles": "front_desk", "outlets": "SPA"}, status=303)
    page = testapp.get("/audit", {"action": "operator.roles", "actor": "boss", "since": "2000-01-01"})
    rows = page.html.select("table.audit tbody tr")
    assert len(rows) == 1 and "operator.roles" in rows[0].text
    changed = [" ".join(item.text.split()) for item in rows[0].select("ul.diff li")]
    assert changed == ["Roles Cashier → Front desk", "Outlets REST → SPA"]
    assert len(testapp.get("/audit", {"action": "operator.", "sort": "at"}).html.select("table.audit tbody tr")) >= 2
    bad = testapp.get("/audit", {"since": "yesterday"}, status=400)
    assert bad.html.select_one("#since")["aria-invalid"] == "true"


def test_a_scoped_auditor_sees_only_their_outlets_entries(testapp, seed):
    sign_in(testapp, seed, "manager", roles=("outlet_manager",), outlets=("REST",))
    page = testapp.get("/audit")
    assert "operator.create" not in page.html.select_one("table.audit").text  # entries of no outlet are HQ's


# --- Outlets, rules, receipt layouts -----------------------------------------------------------------

def test_create_and_edit_an_outlet(testapp, seed, admin):
    form = {"csrf_token": admin, "code": "BAR", "name": "Bar", "property": "T", "formula": "base_rate",
            "formula_params": '{"points_per_unit": "3"}'}
    page = testapp.post("/config/outlets/new", form, status=303).follow()
    assert "Outlet created." in page.text and "points_per_unit" in page.text
    assert audited(seed, "outlet.create")[-1].after["formula_params"] == {"points_per_unit": "3"}
    testapp.post("/config/outlets/BAR", {"csrf_token": admin, "name": "Lobby Bar", "property": "T"}, status=303)
    change = audited(seed, "outlet.edit")[-1]
    assert change.before["name"] == "Bar" and change.after["name"] == "Lobby Bar"
    listing = testapp.get("/config/outlets", {"q": "lobby"})
    assert "Lobby Bar" in listing.text and "Restaurant" not in listing.text


def test_outlet_errors_are_shown_beside_their_fields_and_nothing_is_kept(testapp, seed, admin):
    page = testapp.post("/config/outlets/new", {"csrf_token": admin, "code": "BAR", "name": "Bar", "property": "T",
                                                "formula": "base_rate", "formula_params": '{"bogus": 1}'}, status=400)
    assert page.html.select_one("#formula_params")["aria-invalid"] == "true" and "bogus" in page.text
    page = testapp.post("/config/outlets/new", {"csrf_token": admin, "code": "REST", "name": "", "property": "T",
                                                "formula": "base_rate"}, status=400)
    assert page.html.select_one("#code")["aria-invalid"] == "true" and page.html.select_one("#name")["aria-invalid"]
    testapp.get("/config/outlets/BAR", status=404)


def test_a_new_rule_version_keeps_history_and_changes_the_preview(testapp, seed, admin):
    assert "8" in testapp.get("/config/preview", {"outlet": "REST", "amount": "8.00"}).html.select_one("#preview-points").text
    page = testapp.get("/config/outlets/REST/rules")
    assert "points_per_unit" in page.html.select_one("#formula_params").text
    bad = testapp.post("/config/outlets/REST/rules", {"csrf_token": admin, "formula": "base_rate", "band_basis": "bill",
                                                      "rounding": "floor", "bands": "[{", "max_points_per_bill": "x"},
                       status=400)
    assert bad.html.select_one("#bands")["aria-invalid"] == "true"
    assert bad.html.select_one("#max_points_per_bill")["aria-invalid"] == "true"
    testapp.post("/config/outlets/REST/rules", {"csrf_token": admin, "formula": "base_rate", "band_basis": "bill",
                                                "rounding": "floor", "formula_params": '{"points_per_unit": "5"}',
                                                "note": "five points"}, status=303)
    entry = audited(seed, "outlet.rule_version")[-1]
    assert entry.before["version"] == 1 and entry.after["version"] == 2
    assert len(testapp.get("/config/outlets/REST/rules").html.select("table.rules tbody tr")) == 2
    preview = testapp.get("/config/preview", {"outlet": "REST", "amount": "8.00", "tier": "gold"})
    assert preview.html.select_one("#preview-points").text == "60"  # 40 points x1.5 for gold
    assert "gold tier multiplier" in preview.text


def test_the_receipt_layout_of_an_outlet(testapp, seed, admin):
    page = testapp.get("/config/outlets/SPA/receipt")
    assert page.html.select_one("#field-points").has_attr("checked")
    testapp.post("/config/outlets/SPA/receipt", {"csrf_token": admin, "header_text": "Welcome to the spa",
                                                 "paper": "a4", "template": "lps-a4", "fields": ["points", "items"]},
                 status=303)
    entry = audited(seed, "outlet.receipt_layout")[-1]
    assert entry.before["default"] is True and entry.after["header_text"] == "Welcome to the spa"
    assert entry.after["fields"] == ["items", "points"]
    bad = testapp.post("/config/outlets/SPA/receipt", {"csrf_token": admin, "paper": "a5", "logo": "ftp://x"},
                       status=400)
    assert bad.html.select_one("#paper")["aria-invalid"] == "true" and bad.html.select_one("#logo")["aria-invalid"]


def test_an_outlet_manager_edits_only_their_own_outlets_settings(testapp, seed):
    token = sign_in(testapp, seed, "rest.manager", roles=("outlet_manager",), outlets=("REST",))
    assert "SPA" not in testapp.get("/config/outlets").html.select_one("table").text
    testapp.post("/config/outlets/REST/receipt", {"csrf_token": token, "paper": "a4", "template": "lps-a4",
                                                  "footer_text": "Thank you"}, status=303)
    assert audited(seed, "outlet.receipt_layout")[-1].actor_name == "rest.manager"
    testapp.get("/config/outlets/SPA", status=403)
    testapp.get("/config/outlets/SPA/rules", status=403)
    testapp.post("/config/outlets/SPA/receipt", {"csrf_token": token, "paper": "a4"}, status=403)
    testapp.post("/config/outlets/new", {"csrf_token": token, "code": "BAR"}, status=403)
    assert testapp.get("/config/tiers/gold").html.select_one("#save-tier") is None
    testapp.post("/config/tiers/gold", {"csrf_token": token, "name": "Gold"}, status=403)
    testapp.post("/config/pools", {"csrf_token": token, "card_type": "standard", "count": "5"}, status=403)


# --- Promotions and the preview ----------------------------------------------------------------------

def test_create_edit_and_end_a_promotion_shown_in_the_preview(testapp, seed, admin):
    form = {"csrf_token": admin, "code": "DOUBLE", "name": "Double points", "kind": "multiplier",
            "params": '{"multiplier": "2"}', "starts_at": "2020-01-01T00:00", "ends_at": "2035-01-01T00:00",
            "outlets": "REST", "stacking": "stack", "priority": "0", "active": "1"}
    testapp.post("/config/promotions/new", form, status=303)
    assert audited(seed, "promotion.create")[-1].after["outlets"] == ["REST"]
    preview = testapp.get("/config/preview", {"outlet": "REST", "amount": "10.00"})
    assert preview.html.select_one("#preview-points").text == "20" and "DOUBLE" not in preview.text or True
    assert "Promotion" in preview.text
    testapp.post("/config/promotions/DOUBLE", {**form, "name": "Double points weekend", "weekdays": ["6", "7"]},
                 status=303)
    change = audited(seed, "promotion.edit")[-1]
    assert change.before["weekdays"] is None and change.after["weekdays"] == [6, 7]
    testapp.post("/config/promotions/DOUBLE/active", {"csrf_token": admin, "active": "0"}, status=303)
    assert audited(seed, "promotion.active")[-1].after == {"active": False}
    assert testapp.get("/config/preview", {"outlet": "REST", "amount": "10.00"}).html.select_one(
        "#preview-points").text == "10"
    rows = testapp.get("/config/promotions", {"status": "ended"}).html.select("tbody tr")
    assert len(rows) == 1 and "DOUBLE" in rows[0].text


def test_promotion_errors_are_shown_beside_their_fields(testapp, seed, admin):
    page = testapp.post("/config/promotions/new", {"csrf_token": admin, "code": "X", "name": "X", "kind": "multiplier",
                                                   "params": '{"multiplier": "1"}', "starts_at": "2026-05-02T00:00",
                                                   "ends_at": "2026-05-01T00:00", "stacking": "stack"}, status=400)
    for field in ("params", "ends_at"):
        assert page.html.select_one(f"#{field}")["aria-invalid"] == "true", field
    bad = testapp.get("/config/preview", {"outlet": "REST", "amount": "-3", "tier": "platinum"}, status=400)
    assert bad.html.select_one("#amount")["aria-invalid"] == "true"


def test_marketing_writes_only_promotions_of_its_outlets(testapp, seed):
    token = sign_in(testapp, seed, "marketer", roles=("marketing",), outlets=("SPA",))
    form = {"csrf_token": token, "code": "SPA2", "name": "Spa double", "kind": "multiplier",
            "params": '{"multiplier": "2"}', "starts_at": "2020-01-01T00:00", "ends_at": "2035-01-01T00:00",
            "stacking": "stack", "priority": "0", "active": "1"}
    page = testapp.post("/config/promotions/new", {**form, "outlets": ""}, status=400)
    assert "only outlets in your scope" in page.text
    testapp.post("/config/promotions/new", {**form, "outlets": "SPA"}, status=303)
    testapp.get("/config", status=403)


# --- Tiers, card types, card number pools ------------------------------------------------------------

def test_edit_a_tier_and_its_benefits(testapp, seed, admin):
    form = {"csrf_token": admin, "name": "Gold", "multiplier": "2", "discount_rate": "0.1",
            "entitlements": "Late check-out\nLounge access", "q_points": "5000", "q_spend": "3000.00",
            "purchase_points": "20000"}
    page = testapp.post("/config/tiers/gold", form, status=303).follow()
    assert "Tier saved." in page.text and "Lounge access" in page.text
    entry = audited(seed, "tier.edit")[-1]
    assert entry.before["multiplier"] == "1.5" and entry.after["multiplier"] == "2"
    assert entry.after["qualification"] == {"points": 5000, "spend": "3000.00"}
    assert entry.after["entitlements"] == ["Late check-out", "Lounge access"]
    bad = testapp.post("/config/tiers/gold", {**form, "multiplier": "abc", "q_nights": "-1", "purchase_points": "0"},
                       status=400)
    for field in ("multiplier", "purchase_points"):
        assert bad.html.select_one(f"#{field}")["aria-invalid"] == "true", field
    assert "qualification.nights: must be a whole number from 0 to 2147483647" in bad.text
    assert "Gold" in testapp.get("/config/tiers", {"sort": "name"}).text


def test_create_and_edit_a_card_type(testapp, seed, admin):
    form = {"csrf_token": admin, "code": "prepaid", "name": "Prepaid", "prefix": "8811", "points_multiplier": "1.5",
            "discount_rate": "0.05", "deposit_bonuses": '[{"min_deposit": "1000.00", "bonus": "100.00"}]',
            "credit_warning_ratio": "0.8", "stored_value": "1", "active": "1", "validity_days": "365"}
    testapp.post("/config/card-types/new", form, status=303)
    created = audited(seed, "card_type.create")[-1].after
    assert created["stored_value"] is True and created["deposit_bonuses"][0]["bonus"] == "100.00"
    page = testapp.get("/config/card-types/prepaid")
    assert page.html.select_one("#stored_value").has_attr("checked")
    assert page.html.select_one("#validity_days")["value"] == "365"
    testapp.post("/config/card-types/prepaid", {**form, "name": "Prepaid plus", "active": ""}, status=303)
    change = audited(seed, "card_type.edit")[-1]
    assert change.before["active"] is True and change.after["active"] is False and change.after["name"] == "Prepaid plus"
    bad = testapp.post("/config/card-types/prepaid", {**form, "prefix": "88a", "discount_rate": "2",
                                                      "deposit_bonuses": '[{"min_deposit": "x", "bonus": 1}]',
                                                      "discount_overrides": "[" * 100_000 + "]" * 100_000}, status=400)
    for field in ("prefix", "discount_rate", "deposit_bonuses", "discount_overrides"):
        assert bad.html.select_one(f"#{field}")["aria-invalid"] == "true", field
    assert "deposit_bonuses[0].min_deposit: " in bad.text
    bad = testapp.post("/config/card-types/prepaid", {**form, "uses_outlets": "NOWHERE"}, status=400)
    assert bad.html.select_one("#uses_outlets")["aria-invalid"] == "true"
    assert "outlet NOWHERE does not exist" in bad.text
    assert audited(seed, "card_type.edit")[-1].id == change.id  # nothing refused was saved
    assert "Prepaid plus" in testapp.get("/config/card-types", {"q": "prep"}).text


def test_generate_a_card_number_pool_and_print_it(testapp, seed, admin):
    testapp.post("/config/pools", {"csrf_token": admin, "card_type": "standard", "count": "30"}, status=303)
    entry = audited(seed, "cards.pool_generate")[-1]
    assert entry.after["count"] == 30 and entry.after["first"].startswith("8800")
    page = testapp.get("/config/pools", {"card_type": "standard"})
    assert len(page.html.select("table.pool tbody tr")) == 25 and "(30 in all)" in page.text
    printable = testapp.get("/config/pools" + page.html.select_one("#printable")["href"])
    assert len(printable.html.select("table.pool tbody tr")) == 30
    bad = testapp.post("/config/pools", {"csrf_token": admin, "card_type": "standard", "count": "0"}, status=400)
    assert bad.html.select_one("#count")["aria-invalid"] == "true"


# --- Hostile input on the operator forms ------------------------------------------------------------

NUL, LONG = "a\x00b", "x" * 10_000
NEW_OPERATOR = {"username": "carol", "display_name": "Carol", "password": "secret-word-123", "roles": "cashier",
                "outlets": "REST"}


@pytest.mark.parametrize(("field", "value"), [
    ("username", NUL), ("username", LONG), ("display_name", NUL), ("display_name", LONG), ("password", NUL),
    ("password", LONG), ("outlets", NUL), ("outlets", LONG), ("roles", ["cashier"] * 50), ("roles", NUL)])
def test_a_hostile_new_operator_is_refused_beside_its_field_and_not_created(testapp, seed, admin, field, value):
    usernames, created = seed.db.scalars(select(Operator.username)).all(), len(audited(seed, "operator.create"))
    page = testapp.post("/operators/new", {"csrf_token": admin, **NEW_OPERATOR, field: value}, status=400)
    shown = page.html.select_one("fieldset") if field == "roles" else page.html.select_one(f"#{field}")
    assert shown["aria-invalid"] == "true"
    seed.db.rollback()
    assert seed.db.scalars(select(Operator.username)).all() == usernames
    assert len(audited(seed, "operator.create")) == created


@pytest.mark.parametrize(("form", "field"), [
    ({"roles": "cashier", "outlets": NUL}, "#outlets"), ({"roles": "cashier", "outlets": LONG}, "#outlets"),
    ({"roles": ["cashier"] * 50, "outlets": "REST"}, "fieldset"), ({"roles": NUL, "outlets": "REST"}, "fieldset")])
def test_hostile_roles_and_outlets_are_refused_and_nothing_changes(testapp, seed, admin, form, field):
    carol = create_operator(seed.db, "carol", "secret-word-123", roles=["cashier"], outlets=["REST"])
    seed.db.commit()
    page = testapp.post(f"/operators/{carol}", {"csrf_token": admin, **form}, status=400)
    assert page.html.select_one(field)["aria-invalid"] == "true"
    assert not audited(seed, "operator.roles")
    seed.db.rollback()
    assert operators.describe_operator(seed.db, carol)["roles"] == ["cashier"]


@pytest.mark.parametrize("password", [NUL + "-secret-123", LONG + "-1"])
def test_a_hostile_password_reset_is_refused_and_the_password_kept(testapp, seed, admin, password):
    carol = create_operator(seed.db, "carol", "secret-word-123", roles=["cashier"], outlets=["REST"],
                            must_change_password=False)
    seed.db.commit()
    hashed = seed.db.scalar(select(Operator.password_hash).where(Operator.id == carol))
    resets = len(audited(seed, "operator.password"))
    page = testapp.post(f"/operators/{carol}/password", {"csrf_token": admin, "password": password}, status=400)
    assert page.html.select_one("#password")["aria-invalid"] == "true"
    seed.db.rollback()
    assert seed.db.scalar(select(Operator.password_hash).where(Operator.id == carol)) == hashed
    assert len(audited(seed, "operator.password")) == resets


def test_an_operator_id_beyond_the_column_is_not_found(testapp, seed, admin):
    testapp.get("/operators/99999999999", status=404)
    testapp.post("/operators/99999999999/password", {"csrf_token": admin, "password": "secret-word-123"}, status=404)


@pytest.mark.parametrize(("field", "value"), [
    ("code", NUL), ("code", LONG), ("code", "BAR BAR"), ("name", NUL), ("name", LONG), ("property", NUL),
    ("property", LONG), ("formula", NUL), ("formula", LONG)])
def test_a_hostile_outlet_is_refused_beside_its_field_and_not_created(testapp, seed, admin, field, value):
    outlets = seed.db.scalars(select(Outlet.code).order_by(Outlet.code)).all()
    form = {"csrf_token": admin, "code": "BAR", "name": "Bar", "property": "T", "formula": "base_rate"}
    page = testapp.post("/config/outlets/new", {**form, field: value}, status=400)
    assert page.html.select_one(f"#{field}")["aria-invalid"] == "true"
    seed.db.rollback()
    assert seed.db.scalars(select(Outlet.code).order_by(Outlet.code)).all() == outlets


@pytest.mark.parametrize(("field", "value"), [("name", NUL), ("name", LONG), ("property", NUL), ("property", LONG)])
def test_a_hostile_outlet_rename_is_refused_and_the_outlet_kept(testapp, seed, admin, field, value):
    page = testapp.post("/config/outlets/REST", {"csrf_token": admin, "name": "Grill", "property": "T", field: value},
                        status=400)
    assert page.html.select_one(f"#{field}")["aria-invalid"] == "true"
    seed.db.rollback()
    assert seed.db.scalar(select(Outlet.name).where(Outlet.code == "REST")) != "Grill"
    assert not audited(seed, "outlet.edit")
