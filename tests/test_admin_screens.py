"""The configuration, operator and audit screens: happy paths, errors beside the field, CSRF,
outlet scope, and an audit entry for every write. Both databases."""
import re

import pytest
from sqlalchemy import select

from lps_core.audit.models import AuditEntry
from lps_core.operators.models import Operator
from lps_core.operators.services import create_operator

PASSWORD = "admin-pass-123"


def csrf_of(page):
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def sign_in(testapp, seed, username="boss", roles=("administrator",), outlets=("all",)):
    create_operator(seed.db, username, PASSWORD, roles=roles, outlets=list(outlets), must_change_password=False)
    seed.db.commit()
    page = testapp.get("/login")
    testapp.post("/login", {"username": username, "password": PASSWORD, "csrf_token": csrf_of(page)}, status=303)
    return csrf_of(testapp.get("/password"))


def audited(seed, action):
    seed.db.rollback()
    return seed.db.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)).all()


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
    assert '"front_desk"' in rows[0].text and '"cashier"' in rows[0].text
    assert len(testapp.get("/audit", {"action": "operator.", "sort": "at"}).html.select("table.audit tbody tr")) >= 2
    bad = testapp.get("/audit", {"since": "yesterday"}, status=400)
    assert bad.html.select_one("#since")["aria-invalid"] == "true"


def test_a_scoped_auditor_sees_only_their_outlets_entries(testapp, seed):
    sign_in(testapp, seed, "manager", roles=("outlet_manager",), outlets=("REST",))
    page = testapp.get("/audit")
    assert "operator.create" not in page.text  # entries of no outlet are HQ's
