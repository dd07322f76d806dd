"""The audit log: what sign-ins, operator changes and API writes record, and the auditor's search."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from lps_core.audit.models import AuditEntry
from lps_core.audit.services import SYSTEM, Actor, record, search_audit
from lps_core.errors import ValidationFailed
from lps_core.operators.services import create_operator, set_roles
from lps_core.outlets.models import Outlet
from lps_core.timeutil import utcnow

PASSWORD = "audit-pass-123"
ADDRESS = {"REMOTE_ADDR": "198.51.100.7"}


def entries(db, action=None):
    db.rollback()  # see what the app committed
    query = select(AuditEntry).order_by(AuditEntry.id)
    return db.scalars(query.where(AuditEntry.action == action) if action else query).all()


def test_an_api_write_is_recorded_with_its_key_outlet_and_result(testapp, seed):
    key = seed.api_key("REST")
    member = testapp.post_json("/api/v1/members", {"name": "Wang Fang", "phone": "+8613900000009", "channel": "desk"},
                               headers={"Authorization": f"Bearer {key}"}, extra_environ=ADDRESS, status=201).json
    [entry] = entries(seed.db, "api.members")
    rest = seed.db.scalar(select(Outlet.id).where(Outlet.code == "REST"))
    assert (entry.actor_kind, entry.actor_name, entry.outlet_id, entry.address) == (
        "api_key", key.split("_")[1], rest, "198.51.100.7")
    assert entry.target_type is None and entry.after == {"id": member["id"], "status": "pending"}
    testapp.post_json(f"/api/v1/members/{member['id']}/approve", {}, headers={"Authorization": f"Bearer {key}"})
    [approval] = entries(seed.db, "api.member_approve")
    assert (approval.target_type, approval.target_id) == ("api.member_approve", f"id={member['id']}")
    assert approval.after["status"] == "active" and approval.after["card_no"]


def test_failed_writes_and_reads_record_nothing(testapp, seed):
    auth = {"Authorization": f"Bearer {seed.api_key('REST')}"}
    testapp.post_json("/api/v1/members", {"name": "A", "channel": "fax"}, headers=auth, status=400)
    testapp.post_json("/api/v1/members", {"name": "A", "phone": "+8613900000009", "channel": "desk"}, status=401)
    card_no = seed.member_card()
    testapp.get(f"/api/v1/cards/{card_no}", headers=auth)
    assert entries(seed.db) == []


def test_sign_ins_and_failures_are_recorded_with_the_address(testapp, seed):
    create_operator(seed.db, "alice", PASSWORD, roles=["cashier"], outlets=["REST"], must_change_password=False)
    seed.db.commit()
    for password, status in (("wrong-pass-123", 400), (PASSWORD, 303)):
        page = testapp.get("/login", extra_environ=ADDRESS)
        token = page.html.find("input", {"name": "csrf_token"})["value"]
        testapp.post("/login", {"username": "alice", "password": password, "csrf_token": token},
                     extra_environ=ADDRESS, status=status)
    log = [(e.action, e.actor_kind, e.actor_name, e.address) for e in entries(seed.db)]
    assert log == [("operator.create", "system", "system", None),
                   ("operator.sign_in_failed", "operator", "alice", "198.51.100.7"),
                   ("operator.sign_in", "operator", "alice", "198.51.100.7")]


def test_operator_changes_keep_before_and_after(seed):
    db = seed.db
    admin = Actor.operator(1, "admin")
    operator_id = create_operator(db, "bob", PASSWORD, roles=["cashier"], outlets=["REST"], actor=admin)
    set_roles(db, operator_id, ["cashier", "front_desk"], ["REST", "SPA"], actor=admin, address="10.0.0.1")
    created, changed = search_audit(db, target_type="operator", target_id=operator_id).entries[::-1]
    assert created.after == {"username": "bob", "display_name": "bob", "roles": ["cashier"], "outlets": ["REST"]}
    assert changed.before == {"username": "bob", "roles": ["cashier"], "outlets": ["REST"]}
    assert changed.after == {"username": "bob", "roles": ["cashier", "front_desk"], "outlets": ["REST", "SPA"]}
    assert (changed.actor_name, changed.address) == ("admin", "10.0.0.1")


def test_search_filters_and_pages(seed):
    db = seed.db
    rest = db.scalar(select(Outlet.id).where(Outlet.code == "REST"))
    for n in range(5):
        record(db, actor=Actor.operator(n % 2, f"op{n % 2}"), action="card.status", target=("card", n),
               before={"status": "active"}, after={"status": "frozen"}, outlet_id=rest if n < 3 else None)
    record(db, actor=SYSTEM, action="jobs.expire", target=None)
    assert search_audit(db).total == 6
    assert [e.target_id for e in search_audit(db, actor="op0").entries] == ["4", "2", "0"]
    assert search_audit(db, action="card.").total == 5 and search_audit(db, action="card").total == 0
    page = search_audit(db, action="card.status", per_page=2, page=3)
    assert (page.total, [e.target_id for e in page.entries]) == (5, ["0"])
    assert search_audit(db, outlet_ids={rest}).total == 3
    now = utcnow()
    assert search_audit(db, since=now - timedelta(minutes=1), until=now + timedelta(minutes=1)).total == 6
    assert search_audit(db, since=now + timedelta(minutes=1)).total == 0
    with pytest.raises(ValidationFailed):
        search_audit(db, per_page=1000)


# --- the staff screens' writes ---------------------------------------------------------------------

def csrf_of(page):
    return page.html.find("input", {"name": "csrf_token"})["value"]


def test_every_successful_staff_screen_write_is_recorded_without_secrets(testapp, seed):
    operator_id = create_operator(seed.db, "alice", PASSWORD, roles=["cashier"], outlets=["REST"],
                                  must_change_password=False)
    seed.db.commit()
    page = testapp.get("/login", extra_environ=ADDRESS)
    testapp.post("/login", {"username": "alice", "password": PASSWORD, "csrf_token": csrf_of(page)},
                 extra_environ=ADDRESS, status=303)
    token = csrf_of(testapp.get("/password"))
    new_password = "brand-new-pass-456"
    # A refused change (400) records nothing; nor does a POST without the CSRF token.
    testapp.post("/password", {"password": new_password, "confirm": "other-pass-789", "csrf_token": token},
                 extra_environ=ADDRESS, status=400)
    testapp.post("/password", {"password": new_password, "confirm": new_password}, status=400)
    assert entries(seed.db, "password") == []
    testapp.post("/password", {"password": new_password, "confirm": new_password, "csrf_token": token,
                               "pin": "1234", "note": "quarterly change"}, extra_environ=ADDRESS, status=303)
    [change] = entries(seed.db, "password")
    assert (change.actor_kind, change.actor_id, change.actor_name, change.address) == (
        "operator", operator_id, "alice", "198.51.100.7")
    assert change.target_type is None and change.after == {"note": "quarterly change"}
    testapp.post("/logout", {"csrf_token": csrf_of(testapp.get("/password"))}, extra_environ=ADDRESS, status=303)
    [sign_out] = entries(seed.db, "logout")
    assert (sign_out.actor_name, sign_out.after) == ("alice", {})
    # The explicit entries stay, and no entry holds a password, the PIN or the CSRF token.
    assert {"operator.sign_in", "operator.password"} <= {entry.action for entry in entries(seed.db)}
    for entry in entries(seed.db):
        text = repr((entry.before, entry.after, entry.target_id))
        for secret in (PASSWORD, new_password, "1234", token):
            assert secret not in text


def test_a_post_without_a_signed_in_operator_records_no_staff_entry(testapp, seed):
    page = testapp.get("/login")
    testapp.post("/login", {"username": "nobody", "password": "wrong-pass-123", "csrf_token": csrf_of(page)},
                 status=400)
    assert [entry.action for entry in entries(seed.db)] == ["operator.sign_in_failed"]


def test_form_fields_keep_lists_and_drop_secrets():
    from webob.multidict import MultiDict

    from lps_core.audit.staff_writes import form_fields

    form = MultiDict([("roles", "cashier"), ("roles", "front_desk"), ("name", "x" * 500), ("csrf_token", "t"),
                      ("new_password", "p"), ("card_PIN", "1"), ("confirm", "p")])
    assert form_fields(form) == {"roles": ["cashier", "front_desk"], "name": "x" * 200}
