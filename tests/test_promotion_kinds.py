"""Promotion kinds are plugins (IPromotionKind): LPS's own seven come through the same hook as a third
party's; the pipeline asks the kind what a promotion gives while keeping the filters, caps and
stacking; a kind no plugin provides is refused (422 naming `kind`); a kind switched off at an
outlet does not apply there, on bills, in the preview, or for referral and enrolment bonuses; and
the switches cost the earn path no query once cached."""
import types
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select
from zope.interface import implementer
from zope.interface.verify import verifyObject

from lps_core.contract import BillInput, BillLine, IPromotion, IPromotionKind, MemberContext, hookimpl
from lps_core.earning.pipeline import compute_points
from lps_core.earning.promotions import PromotionBook, clean_promotion, save_promotion, view_of
from lps_core.earning.rules import Rule
from lps_core.outlets.models import Outlet
from lps_core.plugins import load_plugins
from lps_core.testing import statements_sent

NOW = datetime.now(timezone.utc)
BUILT_IN = {"multiplier": True, "bonus": True, "sku_bonus": True, "first_stay": True, "coupon": True,
            "enrolment": False, "referral": False}
WINDOW = {"starts_at": (NOW - timedelta(days=1)).isoformat(), "ends_at": (NOW + timedelta(days=30)).isoformat()}


def test_lps_own_kinds_are_plugins_of_the_distribution_lps(plugins):
    for name, on_bill in BUILT_IN.items():
        component = plugins.component("promotion_kind", name)
        assert verifyObject(IPromotionKind, component.obj)
        assert (component.distribution, component.from_core, component.obj.on_bill) == ("lps", True, on_bill)
        assert str(component.obj.label)


# The pipeline and a kind of a throwaway plugin.

@implementer(IPromotionKind)
class PerLine:
    """10 points per bill line, or per line of the promotion's products."""

    name = "per_line"
    label = "points per bill line"
    on_bill = True

    def __init__(self):
        self.asked = []

    def validate_params(self, params):
        if set(params) != {"points"}:
            raise ValueError("points is required, and alone")
        return dict(params)

    def evaluate(self, promotion, context):
        self.asked.append((promotion.code, context.points, context.exact))
        return promotion.params["points"] * sum(1 for line in context.bill.items if promotion.line_matches(line))

    def explain(self, promotion, bonus):
        return f"{promotion.name}: {bonus} for the lines"


@implementer(IPromotionKind)
class Never:
    """A kind granted by an event: never evaluated on a bill."""

    name = "never_on_bills"
    label = "never on bills"
    on_bill = False

    def validate_params(self, params):
        return {}

    def evaluate(self, promotion, context):
        raise AssertionError("an event kind is not evaluated on bills")

    def explain(self, promotion, bonus):
        return ""


@pytest.fixture
def kinds():
    per_line, never = PerLine(), Never()
    plugin = types.SimpleNamespace(lps_promotion_kinds=hookimpl(lambda: [per_line, never]))
    return load_plugins({}, extra_plugins=[("test_kinds", plugin)]), per_line


def promotion(kinds, **fields):
    clean = clean_promotion({"code": "P", "name": "Promo", "kind": "per_line", "params": {"points": 10}, **WINDOW,
                             **fields}, kinds=kinds.promotion_kinds)
    return view_of(type("Row", (), {"id": hash(clean["code"]) % 1000, **clean})())


def rule():
    return Rule(1, 1, 1, datetime(1970, 1, 1, tzinfo=timezone.utc), "base_rate", {}, (), "bill", None, "floor", None)


ITEMS = (BillLine("WINE", "wine", Decimal(1), 5000), BillLine("TEA", "drinks", Decimal(2), 1000),
         BillLine("CAKE", "food", Decimal(1), 4000))


def test_the_pipeline_asks_the_kind_and_keeps_filters_caps_and_stacking(kinds):
    registry, per_line = kinds
    promotions = [promotion(registry, code="ALL"),
                  promotion(registry, code="CAPPED", params={"points": 100}, cap_per_bill=150),
                  promotion(registry, code="WINE", categories=["wine"], stacking="best_of"),
                  promotion(registry, code="DRINKS", categories=["wine", "drinks"], stacking="best_of"),
                  promotion(registry, code="GOLD", tiers=["gold"]),
                  promotion(registry, code="EVENT", kind="never_on_bills", params={})]
    computed = compute_points(registry, rule(), BillInput("REST", "B", 10000, NOW, ITEMS), MemberContext(1),
                              promotions)
    lines = {step["rule"]: (step["points"], step["description"]) for step in computed.breakdown
             if step["step"] == "promotion"}
    assert lines == {"ALL": (30, "Promo: 30 for the lines"), "CAPPED": (150, "Promo: 150 for the lines"),
                     "DRINKS": (20, "Promo: 20 for the lines")}
    assert computed.points == 100 + 30 + 150 + 20
    assert {code for code, _, _ in per_line.asked} == {"ALL", "CAPPED", "WINE", "DRINKS"}  # not GOLD's silver bill
    assert all(points == 100 and exact for _, points, exact in per_line.asked)


def test_a_promotion_of_a_kind_no_plugin_provides_is_skipped(kinds, plugins):
    registry, _ = kinds
    orphan = promotion(registry)  # per_line is a kind of the throwaway plugin, not of the installed ones
    computed = compute_points(plugins, rule(), BillInput("REST", "B", 10000, NOW, ITEMS), MemberContext(1), [orphan])
    assert [step["step"] for step in computed.breakdown] == ["formula"]


def test_a_kind_checks_its_own_parameters(kinds):
    from lps_core.errors import LpsError

    registry, _ = kinds
    with pytest.raises(LpsError) as error:
        promotion(registry, params={"points": 10, "more": 1})
    assert (error.value.status, error.value.fields) == (422, {"params": "points is required, and alone"})


def test_the_promotion_a_kind_sees_provides_ipromotion(kinds):
    assert verifyObject(IPromotion, promotion(kinds[0]))


# Through the API and the database.

@pytest.fixture
def auth(seed):
    return {"Authorization": f"Bearer {seed.api_key('REST')}"}


def create(testapp, auth, status=201, **fields):
    return testapp.post_json("/api/v1/promotions", {"code": "BONUS", "name": "Bonus", "kind": "bonus",
                                                    "params": {"points": 100}, **WINDOW, **fields},
                             headers=auth, status=status).json


def post_bill(testapp, auth, card_no, bill_no, amount="10.00"):
    return testapp.post_json("/api/v1/transactions", {"card_no": card_no, "bill_no": bill_no, "amount": amount},
                             headers=auth, status=201).json


def promotion_lines(answer):
    return [step["rule"] for step in answer["breakdown"] if step["step"] == "promotion"]


def test_a_kind_no_plugin_provides_is_422_naming_kind(testapp, seed, auth, plugins):
    answer = create(testapp, auth, 422, kind="lottery")
    installed = ", ".join(sorted(plugins.promotion_kinds))
    assert answer["fields"] == {"kind": f"no plugin provides the promotion kind 'lottery' (installed: {installed})"}
    create(testapp, auth)
    changed = testapp.patch_json("/api/v1/promotions/BONUS", {"kind": "lottery"}, headers=auth, status=422).json
    assert set(changed["fields"]) == {"kind"}
    assert testapp.get("/api/v1/promotions/BONUS", headers=auth).json["kind"] == "bonus"


def test_a_kind_switched_off_at_an_outlet_does_not_apply_there(testapp, seed, auth):
    create(testapp, auth)
    seed.switch("promotion_kind", "bonus", outlet="SPA", enabled=False)
    card_no = seed.member_card()
    spa = {"Authorization": f"Bearer {seed.api_key('SPA')}"}
    assert promotion_lines(post_bill(testapp, auth, card_no, "R1")) == ["BONUS"]
    assert promotion_lines(post_bill(testapp, spa, card_no, "S1")) == []
    previews = {outlet: testapp.post_json("/api/v1/preview", {"amount": "10.00", "outlet": outlet},
                                          headers=auth).json for outlet in ("REST", "SPA")}
    assert (promotion_lines(previews["REST"]), promotion_lines(previews["SPA"])) == (["BONUS"], [])


def test_the_configuration_preview_leaves_out_a_kind_switched_off(testapp, seed, auth):
    from lps_core.testing import sign_in_as

    create(testapp, auth)
    sign_in_as(testapp, seed, "boss", "admin-pass-123", ("administrator",), ("all",))
    assert "Bonus: +100" in testapp.get("/config/preview", {"outlet": "REST", "amount": "10.00"}).text
    seed.switch("promotion_kind", "bonus", enabled=False)
    assert "Bonus: +100" not in testapp.get("/config/preview", {"outlet": "REST", "amount": "10.00"}).text


def test_referral_bonuses_follow_the_switch_at_the_bill_outlet(testapp, seed, auth):
    create(testapp, auth, code="REFER", kind="referral", params={"levels": [300]})
    seed.switch("promotion_kind", "referral", outlet="REST", enabled=False)
    referrer = seed.member_card("Referrer")
    member = testapp.post_json("/api/v1/members", {"name": "Friend", "phone": "+8613800000001", "channel": "web",
                                                   "referrer_card_no": referrer}, headers=auth, status=201).json
    friend = testapp.post_json(f"/api/v1/members/{member['id']}/approve", {}, headers=auth).json["card_no"]

    def balance(card):
        return testapp.get(f"/api/v1/cards/{card}", headers=auth).json["points_balance"]

    post_bill(testapp, auth, friend, "R1")
    assert balance(referrer) == 0  # off at REST
    post_bill(testapp, {"Authorization": f"Bearer {seed.api_key('SPA')}"}, friend, "S1")
    assert balance(referrer) == 300


@pytest.mark.parametrize("enabled, bonus", [(True, [("bonus", 200)]), (False, [])])
def test_enrolment_bonuses_follow_the_programme_switch(testapp, seed, auth, enabled, bonus):
    create(testapp, auth, code="JOIN", kind="enrolment", params={"points": 200})
    seed.switch("promotion_kind", "enrolment", enabled=enabled)
    member = testapp.post_json("/api/v1/members", {"name": "N", "email": "n@example.com", "channel": "desk"},
                               headers=auth).json
    card_no = testapp.post_json(f"/api/v1/members/{member['id']}/approve", {}, headers=auth).json["card_no"]
    ledger = testapp.get(f"/api/v1/cards/{card_no}/ledger", headers=auth).json
    assert [(entry["kind"], entry["amount"]) for entry in ledger["entries"]] == bonus


def test_the_switches_cost_the_earn_path_no_query_once_cached(seed, plugins):
    """PromotionBook.on_at is called for every bill: with warm caches it reads nothing."""
    for code, kind, params in (("B", "bonus", {"points": 5}), ("M", "multiplier", {"multiplier": "2"})):
        save_promotion(seed.db, clean_promotion({"code": code, "name": code, "kind": kind, "params": params, **WINDOW}))
    seed.switch("promotion_kind", "bonus", outlet="SPA", enabled=False)
    outlet_id = seed.db.scalar(select(Outlet.id).where(Outlet.code == "SPA"))
    book = PromotionBook(cache_seconds=60)
    assert [promotion.code for promotion in book.on_at(seed.db, plugins, outlet_id)] == ["M"]
    with statements_sent(seed.db.get_bind()) as statements:
        assert [promotion.code for promotion in book.on_at(seed.db, plugins, outlet_id)] == ["M"]
    assert statements == []


def test_the_configuration_screen_lists_the_kinds_of_the_plugins_with_their_labels(testapp, seed, plugins):
    from lps_core.testing import sign_in_as

    sign_in_as(testapp, seed, "boss", "admin-pass-123", ("administrator",), ("all",))
    options = testapp.get("/config/promotions/new").html.select("select#kind option")
    assert [option["value"] for option in options] == list(plugins.promotion_kinds)
    shown = {option["value"]: option.text for option in options}
    assert shown["multiplier"] == "points multiplier"
    assert all(shown[name] == str(kind.label) for name, kind in plugins.promotion_kinds.items())
