"""The authorization matrix: every role against every staff route, generated from roles.ROLES and
the routes registered in the app, so a new screen is covered (or fails) without editing this file.

A staff route must declare its permission on every view: a Permission, or NO_PERMISSION_REQUIRED
to be public on purpose (sign-in, sign-out, the password change). The JSON API is left out: it
authenticates with API keys and scopes instead."""
import re
from types import SimpleNamespace

import pytest
from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPForbidden
from pyramid.security import NO_PERMISSION_REQUIRED
from sqlalchemy import select

from lps_core.operators.access import operator_may
from lps_core.operators.permissions import Permission
from lps_core.operators.roles import ROLES, permissions_of
from lps_core.operators.services import create_operator, get_operator
from lps_core.outlets.models import Outlet
from lps_core.screens.shell.security import require_outlet

PASSWORD = "matrix-pass-123"
# Routes that are public by their plugin's design, though they do not say so in code (none today).
KNOWN_PUBLIC = {}


def staff_views(registry):
    """(route name, pattern, method, permission or None) for each view of each non-API route."""
    introspector = registry.introspector
    found = []
    for entry in introspector.get_category("routes"):
        route = entry["introspectable"]
        if route["pattern"].startswith(("/api/", "api/")) or route["name"].startswith("__"):
            continue
        for view in (related for related in entry["related"] if related.category_name == "views"):
            permissions = [p["value"] for p in introspector.related(view) if p.category_name == "permissions"]
            methods = view["request_methods"] or ("GET",)
            for method in [methods] if isinstance(methods, str) else methods:
                found.append((route["name"], route["pattern"], method, permissions[0] if permissions else None))
    return found


def protected_views(registry):
    return [view for view in staff_views(registry) if view[3] not in (None, NO_PERMISSION_REQUIRED)]


def test_every_staff_route_declares_a_known_permission(wsgi_app):
    views = staff_views(wsgi_app.registry)
    undeclared = [v for v in views if v[3] is None and v[0] not in KNOWN_PUBLIC]
    assert undeclared == [], "staff routes without a permission (declare one, or NO_PERMISSION_REQUIRED)"
    unknown = [v for v in views if v[3] not in (None, NO_PERMISSION_REQUIRED) and v[3] not in set(Permission)]
    assert unknown == [], "permissions must come from lps_core.operators.permissions.Permission"
    assert protected_views(wsgi_app.registry), "the landing page at least is protected"


def test_a_route_without_a_permission_is_caught():
    with Configurator() as config:
        config.add_route("careless", "/careless")
        config.add_view(lambda request: {}, route_name="careless", renderer="json")
        config.add_route("api.thing", "/api/v1/thing")
        config.add_view(lambda request: {}, route_name="api.thing", renderer="json")
    assert staff_views(config.registry) == [("careless", "/careless", "GET", None)]


def test_every_role_holds_only_known_permissions_and_administrator_holds_all():
    assert ROLES["administrator"] == frozenset(Permission)
    for role in ("finance_auditor", "hq_analyst"):
        assert not {p for p in ROLES[role] if not p.endswith(".view")}, f"{role} is read-only"


def _concrete(pattern):
    return "/" + re.sub(r"\{(\w+)[^}]*\}", "1", pattern).lstrip("/").replace("*subpath", "")


@pytest.mark.parametrize("role", sorted(ROLES))
def test_each_role_reaches_exactly_the_routes_its_permissions_allow(role, testapp, seed, wsgi_app):
    create_operator(seed.db, f"op-{role.replace('_', '-')}", PASSWORD, roles=[role], outlets=["all"],
                    must_change_password=False)
    seed.db.commit()
    page = testapp.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    testapp.post("/login", {"username": f"op-{role.replace('_', '-')}", "password": PASSWORD, "csrf_token": token},
                 status=303)
    token = re.search(r'name="csrf_token" value="([^"]+)"', testapp.get("/password").text).group(1)
    granted = permissions_of([role])
    for name, pattern, method, permission in protected_views(wsgi_app.registry):
        path = _concrete(pattern)
        params = {"csrf_token": token} if method != "GET" else {}
        response = testapp.request(path, method=method, POST=params if method != "GET" else None, expect_errors=True)
        where = f"{role} {method} {path} ({name}, needs {permission})"
        if permission in granted:
            assert response.status_int != 403 and response.status_int < 500, where
            if method == "GET" and "{" not in pattern:
                assert response.status_int < 400, where
        else:
            assert response.status_int == 403, where


def test_outlet_scope_limits_what_a_role_allows(seed):
    db = seed.db
    rest, spa = (db.scalar(select(Outlet.id).where(Outlet.code == code)) for code in ("REST", "SPA"))
    cashier = get_operator(db, create_operator(db, "cashier.rest", PASSWORD, roles=["cashier"], outlets=["REST"],
                                               must_change_password=False))
    hotel = get_operator(db, create_operator(db, "manager.t", PASSWORD, roles=["outlet_manager"], outlets=["T"],
                                             must_change_password=False))
    analyst = get_operator(db, create_operator(db, "analyst", PASSWORD, roles=["hq_analyst"],
                                               must_change_password=False))
    assert operator_may(cashier, Permission.CASHIER_SETTLE, rest)
    assert not operator_may(cashier, Permission.CASHIER_SETTLE, spa)
    assert not operator_may(cashier, Permission.CASHIER_REFUND, rest)
    assert operator_may(hotel, Permission.CASHIER_REFUND, spa) and operator_may(hotel, Permission.CASHIER_REFUND, rest)
    assert analyst.all_outlets and operator_may(analyst, Permission.REPORTS_VIEW, spa)
    assert not operator_may(analyst, Permission.CASHIER_SETTLE, spa)
    require_outlet(SimpleNamespace(identity=cashier), rest)
    with pytest.raises(HTTPForbidden):
        require_outlet(SimpleNamespace(identity=cashier), spa)
    with pytest.raises(HTTPForbidden):
        require_outlet(SimpleNamespace(identity=None), rest)


def test_an_operator_who_must_change_the_password_may_do_nothing_yet(seed):
    operator = get_operator(seed.db, create_operator(seed.db, "newbie", PASSWORD, roles=["administrator"]))
    assert not operator_may(operator, Permission.VIEW_DASHBOARD)


# --- Outlet fences: another outlet's resource is answered exactly like an unknown one -----------------

def _same_answer(testapp, method, known, unknown, headers, **kw):
    """The answers for another outlet's id (`known`) and for an id that exists nowhere (`unknown`)
    are the same 404, once each id is blanked out of the text."""
    def answer(path, number):
        response = testapp.request(path, method=method, headers=headers, expect_errors=True, **kw)
        return response.status_int, response.content_type, response.text.replace(number, "#")
    first = answer(*known)
    assert first == answer(*unknown)
    assert first[0] == 404
    return first


def test_another_outlets_redemption_is_not_found_like_an_unknown_one(testapp, seed):
    import json

    from datetime import timedelta

    from lps_core.ledger import services as ledger
    from lps_core.timeutil import utcnow

    card_no = seed.member_card()
    ledger.credit(seed.db, seed.points_account(card_no), 5000, kind=ledger.EARN, business_key="gift",
                  fingerprint="gift", expires_at=utcnow() + timedelta(days=30))
    seed.db.commit()
    rest = {"Authorization": f"Bearer {seed.api_key('REST', scopes=['rewards', 'rewards.manage'])}"}
    spa = {"Authorization": f"Bearer {seed.api_key('SPA', scopes=['rewards'])}"}
    testapp.post_json("/api/v1/rewards", {"code": "MUG", "name": "Mug", "category": "item", "cost": "5.00"},
                      headers=rest, status=201)
    made = testapp.post_json("/api/v1/redemptions", {"card_no": card_no, "reward": "MUG", "request_no": "R-1",
                                                     "collection": "later"}, headers=rest, status=201).json
    number, nowhere = made["no"], "R00009999"
    body = json.dumps({"reason": "probing"}).encode()
    json_kw = {"body": body, "content_type": "application/json"}
    _same_answer(testapp, "GET", (f"/api/v1/redemptions/{number}", number),
                 (f"/api/v1/redemptions/{nowhere}", nowhere), spa)
    _same_answer(testapp, "POST", (f"/api/v1/redemptions/{number}/collect", number),
                 (f"/api/v1/redemptions/{nowhere}/collect", nowhere), spa)
    _same_answer(testapp, "POST", (f"/api/v1/redemptions/{number}/cancel", number),
                 (f"/api/v1/redemptions/{nowhere}/cancel", nowhere), spa, **json_kw)
    assert testapp.get(f"/api/v1/redemptions/{number}", headers=rest).json["status"] == "awaiting_pickup"
    assert testapp.post_json(f"/api/v1/redemptions/{number}/cancel", {"reason": "changed mind"},
                             headers=rest).json["status"] == "cancelled"


def test_a_scoped_operator_finds_another_outlets_redemption_as_unknown(testapp, seed):
    from datetime import timedelta
    from decimal import Decimal

    from lps_core.earning.services import OutletContext
    from lps_core.ledger import services as ledger
    from lps_core.rewards import services as rewards
    from lps_core.rewards.models import Reward
    from lps_core.testing import sign_in_as
    from lps_core.timeutil import utcnow

    card_no = seed.member_card()
    ledger.credit(seed.db, seed.points_account(card_no), 5000, kind=ledger.EARN, business_key="gift",
                  fingerprint="gift", expires_at=utcnow() + timedelta(days=30))
    seed.db.add(Reward(code="MUG", name="Mug", category="item", cost_cents=500, active=True))
    spa_id = seed.db.scalar(select(Outlet.id).where(Outlet.code == "SPA"))
    made = rewards.redeem(seed.db, OutletContext(spa_id, "SPA"),
                          rewards.RedeemRequest(card_no, "MUG", 1, "R-1", False), Decimal(100))
    seed.db.commit()
    token = sign_in_as(testapp, seed, "cashier.rest", PASSWORD, ["cashier"], ["REST"])
    for path in (f"/rewards/redemptions/{made.number}/collect", "/rewards/redemptions/R00009999/collect"):
        testapp.post(path, {"csrf_token": token}, status=404)
    with pytest.raises(Exception, match="does not exist"):
        rewards.get_redemption(seed.db, made.number, outlets=[seed.db.scalar(select(Outlet.id).where(Outlet.code == "REST"))])
    assert rewards.get_redemption(seed.db, made.number, outlets=rewards.ANY_OUTLET).status == "awaiting_pickup"


def test_another_outlets_settlement_is_not_found_like_an_unknown_one(testapp, seed):
    import json

    card_no = seed.member_card()
    rest = {"Authorization": f"Bearer {seed.api_key('REST', scopes=['cashier'])}"}
    spa = {"Authorization": f"Bearer {seed.api_key('SPA', scopes=['cashier'])}"}
    settled = testapp.post_json("/api/v1/settlements", {
        "card_no": card_no, "bill_no": "B-1", "items": [{"sku": "TEA", "category": "drinks", "amount": "40.00"}],
        "tenders": [{"kind": "cash", "amount": "40.00"}]}, headers=rest, status=201).json
    number, nowhere = str(settled["id"]), "99999"
    refund = {"body": json.dumps({"refund_no": "RF-1", "amount": "10.00", "reason": "probing"}).encode(),
              "content_type": "application/json"}
    for suffix, method, kw in (("", "GET", {}), ("/refunds", "POST", refund), ("/receipt", "GET", {}),
                               ("/receipt/prints", "GET", {})):
        _same_answer(testapp, method, (f"/api/v1/settlements/{number}{suffix}", number),
                     (f"/api/v1/settlements/{nowhere}{suffix}", nowhere), spa, **kw)
    assert testapp.get(f"/api/v1/settlements/{number}", headers=rest).json["refundable"] == "40.00"


# --- API key scopes: least privilege by default, and the docs say what the code does ------------------

def _scopes_after_without_scope(text, where):
    """The backticked scopes that follow 'without `--scope`... gets' in a page of the docs."""
    match = re.search(r"without\s+`--scope`\s+gets\s+((?:`[a-z.]+`(?:,\s+|\s+and\s+)?)+)", text)
    assert match, f"{where} does not say what a key created without --scope gets"
    return tuple(re.findall(r"`([a-z.]+)`", match.group(1)))


def test_the_default_scopes_are_least_privilege_and_the_docs_and_cli_say_so(capsys):
    from pathlib import Path

    from lps_core.apikeys.scopes import DEFAULT_SCOPES, SCOPES
    from lps_core.cli import build_parser

    assert set(DEFAULT_SCOPES) == {"members", "cards.read"}  # enrolment and look-up; nothing that spends
    docs = Path(__file__).parent.parent / "docs"
    for page in ("api.md", "configuration.md", "install.md"):
        assert _scopes_after_without_scope((docs / page).read_text(encoding="utf-8"), page) == DEFAULT_SCOPES, page
    table = (docs / "configuration.md").read_text(encoding="utf-8").split("## API keys and scopes", 1)[1]
    assert tuple(re.findall(r"^\| `([a-z.]+)` \|", table, re.M)) == SCOPES, "configuration.md lists every scope once"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["apikey", "create", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert f"Default (least privilege): {', '.join(DEFAULT_SCOPES)};" in help_text
    assert all(scope in help_text for scope in SCOPES)


def test_a_key_created_without_scopes_cannot_spend_settle_or_redeem(testapp, seed):
    from lps_core.apikeys.services import create_api_key

    key = create_api_key(seed.db, "REST")
    seed.db.commit()
    website = {"Authorization": f"Bearer {key}"}
    card_no = seed.member_card()
    testapp.get(f"/api/v1/cards/{card_no}", headers=website, status=200)
    for method, path in (("POST", "/api/v1/transactions"), ("POST", "/api/v1/settlements"),
                         ("GET", f"/api/v1/cashier/lookup?name=Test"), ("POST", "/api/v1/redemptions"),
                         ("POST", "/api/v1/members/1/approve")):
        answer = testapp.request(path, method=method, headers=website, expect_errors=True,
                                 **({"body": b"{}", "content_type": "application/json"} if method == "POST" else {}))
        assert answer.status_int == 403, (method, path, answer.status_int)
