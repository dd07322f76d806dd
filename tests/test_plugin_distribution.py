"""The proof that LPS is a plugin framework: a third party's distribution, written here into a
temporary directory and installed with pip as a hotel's developer would, adds a tender, a
promotion kind and an exchange partner with no change to lps_core.

"lps-grand-hotel" provides:
- the tender `room_charge`: the bill is charged to the guest's folio in the hotel's property
  system; LPS records the folio reference and moves no account of its own;
- the promotion kind `big_basket`: bonus points for a bill of at least `min_lines` item lines;
- the exchange partner `GRANDMILES`: the hotel group's miles, booked at once at a rate per outlet.

It imports only lps_core.contract. The app is built after the installation, so it finds the
distribution through its entry point like any other. Each component is switched on at REST only
(lps_core.plugins.switches.set_switch, as the configuration screens do): it works there, and SPA
refuses it (a tender or an exchange partner with 422 naming the field; a promotion of the kind does
not apply). The ledger check stays clean throughout.
"""
import ast
import importlib
import importlib.util
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from importlib.metadata import entry_points

import pytest
from sqlalchemy import select
from webtest import TestApp

from lps_core.components import IPlugins
from lps_core.ledger.check import find_drift
from lps_core.outlets.models import Outlet
from lps_core.plugins.switches import set_switch
from lps_core.testing import TEST_SETTINGS

DISTRIBUTION = "lps-grand-hotel"
PACKAGE = "lps_grand_hotel"
PLUGIN = "grand_hotel"

SETUP_CFG = f"""\
[metadata]
name = {DISTRIBUTION}
version = 1.0.0
description = The Grand Hotel's own rules for LPS: room charges, big baskets, Grand Miles

[options]
packages = {PACKAGE}
install_requires =
    lps

[options.entry_points]
lps =
    {PLUGIN} = {PACKAGE}
"""

PYPROJECT_TOML = """\
[build-system]
requires = ["setuptools>=61", "wheel"]
build-backend = "setuptools.build_meta"
"""

PLUGIN_SOURCE = '''\
"""The Grand Hotel's own rules for LPS: a room-charge tender, a big-basket promotion kind and the
Grand Miles exchange."""
from pydantic import Field
from zope.interface import implementer

from lps_core.contract import (
    IN,
    ExchangeSettings,
    IPointExchange,
    IPromotionKind,
    ITender,
    OutletSettings,
    PermanentFailure,
    Quote,
    StatementLine,
    TakenTender,
    TenderRefused,
    TransferReceipt,
    hookimpl,
    parse_positive_int,
)


class FolioSettings(OutletSettings):
    earns_points: bool = Field(True, description="Whether what a room charge pays earns points")


@implementer(ITender)
class RoomCharge:
    """The bill goes on the guest's folio in the property system, which bills the guest at check-out:
    LPS records the folio reference, and no account of LPS moves."""

    name = "room_charge"
    label = "Room charge"
    settings_schema = FolioSettings
    moves_card_account = False
    needs_pin = False

    def earns_points(self, settings):
        return settings.earns_points

    def validate(self, line, context):
        if not (line.reference or "").strip().startswith("F-"):
            raise TenderRefused("a room charge needs the guest's folio number, such as F-1203",
                                f"{line.field}.reference")

    def take(self, line, context):
        folio = line.reference.strip()
        return TakenTender(reference=folio, details={"folio": folio})

    def give_back(self, tender, share_cents, earlier_cents, context, *, whole_bill):
        return {"folio": tender.details["folio"], "credited_cents": share_cents}


@implementer(IPromotionKind)
class BigBasket:
    name = "big_basket"
    label = "Big basket"
    on_bill = True

    def validate_params(self, params):
        return {"min_lines": parse_positive_int(params.get("min_lines"), name="min_lines"),
                "points": parse_positive_int(params.get("points"), name="points")}

    def evaluate(self, promotion, context):
        lines = [line for line in context.bill.items if promotion.line_matches(line)]
        if len(lines) < promotion.params["min_lines"]:
            return 0
        return context.as_points(promotion.params["points"])

    def explain(self, promotion, bonus):
        return f"{promotion.name}: {bonus} points for {promotion.params['min_lines']} lines or more"


class GrandMilesSettings(ExchangeSettings):
    miles_per_point: int = Field(3, ge=1, le=100, description="Grand Miles worth one LPS point")


@implementer(IPointExchange)
class GrandMiles:
    """The hotel group's miles, booked at once; `booked` stands for the group's own system."""

    name = "GRANDMILES"
    label = "Grand Miles"
    settings_schema = GrandMilesSettings

    def __init__(self):
        self.booked = {}  # (direction, reference) -> miles

    def quote(self, direction, points, settings):
        rate = settings.miles_per_point
        if direction == IN:
            return Quote(direction, points // rate, points // rate * rate, f"{rate} miles = 1 point")
        return Quote(direction, points, points * rate, f"1 point = {rate} miles")

    def transfer(self, transfer, settings):
        if not transfer.partner_member_no.startswith("GM"):
            raise PermanentFailure("Grand Miles numbers start with GM", field="partner_member_no")
        self.booked.setdefault((transfer.direction, transfer.reference), transfer.partner_points)
        return TransferReceipt(partner_reference=f"GM-{transfer.reference}")

    def reverse(self, transfer, settings):
        self.booked.pop((transfer.direction, transfer.reference), None)
        return TransferReceipt(partner_reference=f"GM-{transfer.reference}-R")

    def statement(self, period_start, period_end, settings):
        return [StatementLine(reference, direction, miles) for (direction, reference), miles in self.booked.items()]


@hookimpl
def lps_tenders():
    return [RoomCharge()]


@hookimpl
def lps_promotion_kinds():
    return [BigBasket()]


@hookimpl
def lps_point_exchanges():
    return [GrandMiles()]
'''

APP_SETTINGS = {**TEST_SETTINGS, "lps.api.key_cache_seconds": "0", "lps.rules.cache_seconds": "0"}


def imports_of(source) -> set:
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            found.add(node.module)
    return found


def test_the_distribution_imports_only_the_contract_from_lps():
    assert {name for name in imports_of(PLUGIN_SOURCE) if name.startswith("lps_core")} == {"lps_core.contract"}


@pytest.fixture(scope="session")
def installed(tmp_path_factory):
    """The distribution built and installed with pip into a folder of its own, not into the venv."""
    source = tmp_path_factory.mktemp("lps-grand-hotel")
    (source / "setup.cfg").write_text(SETUP_CFG, encoding="utf-8")
    (source / "pyproject.toml").write_text(PYPROJECT_TOML, encoding="utf-8")
    (source / PACKAGE).mkdir()
    (source / PACKAGE / "__init__.py").write_text(PLUGIN_SOURCE, encoding="utf-8")
    target = tmp_path_factory.mktemp("site")
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(source)]
    if importlib.util.find_spec("wheel") is not None:
        command.insert(-1, "--no-build-isolation")  # setuptools and wheel are at hand: build offline
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert (target / PACKAGE / "__init__.py").is_file()
    return target


@pytest.fixture(scope="module")
def on_path(installed, plugins):
    """The installed distribution visible to importlib.metadata for this module's tests only, so the
    registries the rest of the suite builds never see it. (`plugins`: the suite's own is built first.)"""
    sys.path.insert(0, str(installed))
    importlib.invalidate_caches()
    yield installed
    sys.path.remove(str(installed))
    sys.modules.pop(PACKAGE, None)
    importlib.invalidate_caches()


@pytest.fixture(scope="module")
def hotel_app(on_path, database_url):
    from lps_core import main

    return main({}, **{**APP_SETTINGS, "sqlalchemy.url": database_url})


@pytest.fixture
def hotel_plugins(hotel_app):
    return hotel_app.registry.getUtility(IPlugins)


@pytest.fixture
def at_rest_only(seed, hotel_plugins):
    """The three components switched on at REST, and only there; returns the outlets' ids."""
    outlets = dict(seed.db.execute(select(Outlet.code, Outlet.id)).all())
    for kind, name in (("tender", "room_charge"), ("promotion_kind", "big_basket"), ("exchange", "GRANDMILES")):
        set_switch(seed.db, hotel_plugins, kind=kind, name=name, scope="outlet", scope_id=outlets["REST"],
                   enabled=True, settings=None)
    seed.db.commit()
    return outlets


def api(hotel_app, seed, outlet, scopes):
    key = seed.api_key(outlet, scopes=scopes)
    return TestApp(hotel_app, extra_environ={"HTTP_AUTHORIZATION": f"Bearer {key}"})


def assert_ledger_clean(seed):
    seed.db.commit()  # a new snapshot: the app committed meanwhile
    assert find_drift(seed.db) == []


def test_the_app_finds_the_installed_distribution_through_its_entry_point(on_path, hotel_plugins):
    assert PLUGIN in {ep.name for ep in entry_points(group="lps")}
    for kind, name in (("tender", "room_charge"), ("promotion_kind", "big_basket"), ("exchange", "GRANDMILES")):
        component = hotel_plugins.component(kind, name)
        assert (component.plugin, component.distribution, component.from_core) == (PLUGIN, DISTRIBUTION, False)
        assert str(on_path) in sys.modules[type(component.obj).__module__].__file__


def test_a_third_partys_components_are_off_until_switched_on(seed, hotel_app):
    cashier = api(hotel_app, seed, "REST", ["cashier"])
    body = {"card_no": seed.member_card(), "bill_no": "G-0", "items": [{"sku": "TEA", "amount": "20.00"}],
            "tenders": [{"kind": "room_charge", "amount": "20.00", "reference": "F-1203"}]}
    refused = cashier.post_json("/api/v1/settlements", body, status=422).json
    assert "tenders[0]" in refused["fields"]


def settlement(card_no, bill_no, amount="120.00", reference="F-1203"):
    return {"card_no": card_no, "bill_no": bill_no, "operator": "front-desk",
            "items": [{"sku": "DINNER", "category": "food", "qty": "1", "amount": amount}],
            "tenders": [{"kind": "room_charge", "amount": amount, "reference": reference}]}


def test_a_bill_is_charged_to_the_room_at_rest_and_refunded_to_the_folio(seed, hotel_app, at_rest_only):
    cashier = api(hotel_app, seed, "REST", ["cashier"])
    card_no = seed.member_card()
    document = cashier.post_json("/api/v1/settlements", settlement(card_no, "G-1"), status=201).json
    [tender] = document["tenders"]
    assert (tender["kind"], tender["amount"], tender["reference"]) == ("room_charge", "120.00", "F-1203")
    assert tender["details"] == {"folio": "F-1203"}
    assert document["points"] == 120  # REST: 1 point per 1.00, and room charges earn by default

    refund = cashier.post_json(f"/api/v1/settlements/{document['id']}/refunds",
                               {"amount": "30.00", "refund_no": "R-1"}, status=201).json
    [returned] = refund["tenders"]
    assert returned == {"kind": "room_charge", "amount": "30.00", "folio": "F-1203", "credited": "30.00"}
    assert refund["points"] == 30 and refund["settlement"]["refundable"] == "90.00"
    assert_ledger_clean(seed)


def test_a_room_charge_without_a_folio_is_refused_naming_the_field(seed, hotel_app, at_rest_only):
    cashier = api(hotel_app, seed, "REST", ["cashier"])
    refused = cashier.post_json("/api/v1/settlements", settlement(seed.member_card(), "G-2", reference="1203"),
                                status=422).json
    assert "tenders[0].reference" in refused["fields"]
    assert_ledger_clean(seed)


def test_the_outlets_settings_decide_whether_a_room_charge_earns(seed, hotel_app, hotel_plugins, at_rest_only):
    set_switch(seed.db, hotel_plugins, kind="tender", name="room_charge", scope="outlet",
               scope_id=at_rest_only["REST"], enabled=True, settings={"earns_points": False})
    seed.db.commit()
    cashier = api(hotel_app, seed, "REST", ["cashier"])
    document = cashier.post_json("/api/v1/settlements", settlement(seed.member_card(), "G-3"), status=201).json
    assert document["points"] == 0
    assert_ledger_clean(seed)


def test_spa_refuses_a_room_charge(seed, hotel_app, at_rest_only):
    cashier = api(hotel_app, seed, "SPA", ["cashier"])
    refused = cashier.post_json("/api/v1/settlements", settlement(seed.member_card(), "G-4"), status=422).json
    assert refused["fields"] == {"tenders[0]": "not available at outlet SPA"}
    assert_ledger_clean(seed)


def moment(days) -> str:
    return (datetime.now(timezone.utc) + timedelta(days=days)).isoformat()


def test_a_big_basket_promotion_applies_at_rest_only(seed, hotel_app, at_rest_only):
    manager = api(hotel_app, seed, "REST", ["rules.manage"])
    manager.post_json("/api/v1/promotions", {
        "code": "BASKET", "name": "Big basket", "kind": "big_basket", "params": {"min_lines": 3, "points": 50},
        "starts_at": moment(days=-1), "ends_at": moment(days=30)}, status=201)
    card_no = seed.member_card()
    lines = [{"sku": sku, "category": "food", "qty": "1", "amount": "10.00"} for sku in ("SOUP", "FISH", "CAKE")]

    def earn(outlet, bill_no, items):
        till = api(hotel_app, seed, outlet, ["transactions"])
        amount = f"{10 * len(items)}.00"
        return till.post_json("/api/v1/transactions", {"card_no": card_no, "bill_no": bill_no, "amount": amount,
                                                       "items": items}, status=201).json

    at_rest = earn("REST", "B-1", lines)
    [step] = [step for step in at_rest["breakdown"] if step["step"] == "promotion"]
    assert step["points"] == 50 and step["description"] == "Big basket: 50 points for 3 lines or more"
    assert at_rest["points"] == 30 + 50
    assert earn("REST", "B-2", lines[:2])["points"] == 20  # too few lines
    at_spa = earn("SPA", "B-3", lines)  # SPA: 2 points per 1.00, and the kind is off there
    assert at_spa["points"] == 60 and not [step for step in at_spa["breakdown"] if step["step"] == "promotion"]
    assert_ledger_clean(seed)


def test_points_go_to_grand_miles_at_rest_and_spa_refuses_the_partner(seed, hotel_app, hotel_plugins, at_rest_only):
    card_no = seed.member_card()
    till = api(hotel_app, seed, "REST", ["transactions"])
    till.post_json("/api/v1/transactions", {"card_no": card_no, "bill_no": "M-1", "amount": "500.00"}, status=201)
    rest = api(hotel_app, seed, "REST", ["exchange"])

    quote = rest.post_json("/api/v1/exchanges/GRANDMILES/quotes", {"direction": "out", "points": 200}).json
    assert (quote["points"], quote["partner_points"], quote["rate"]) == (200, 600, "1 point = 3 miles")
    done = rest.post_json("/api/v1/exchanges/GRANDMILES/transfers", {
        "direction": "out", "card_no": card_no, "points": 200, "reference": "GT-1", "partner_member_no": "GM0042"},
        status=201).json
    assert (done["status"], done["points"], done["partner_points"]) == ("done", 200, 600)
    assert done["partner_reference"] == "GM-GT-1"
    assert hotel_plugins.of_kind("exchange")["GRANDMILES"].booked == {("out", "GT-1"): 600}
    miles_in = rest.post_json("/api/v1/exchanges/GRANDMILES/transfers", {
        "direction": "in", "card_no": card_no, "points": 90, "reference": "GT-2", "partner_member_no": "GM0042"},
        status=201).json
    assert (miles_in["status"], miles_in["points"]) == ("done", 30)

    refused = rest.post_json("/api/v1/exchanges/GRANDMILES/transfers", {
        "direction": "out", "card_no": card_no, "points": 10, "reference": "GT-3", "partner_member_no": "X1"},
        status=422).json
    assert "partner_member_no" in refused["fields"]

    spa = api(hotel_app, seed, "SPA", ["exchange"])
    for path, body in (("quotes", {"direction": "out", "points": 200}),
                       ("transfers", {"direction": "out", "card_no": card_no, "points": 100, "reference": "GT-4",
                                      "partner_member_no": "GM0042"})):
        refused = spa.post_json(f"/api/v1/exchanges/GRANDMILES/{path}", body, status=422).json
        assert refused["fields"] == {"partner": "not available at outlet SPA"}
    assert ("out", "GT-4") not in hotel_plugins.of_kind("exchange")["GRANDMILES"].booked
    assert_ledger_clean(seed)
