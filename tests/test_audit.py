"""The audit log: what sign-ins, operator changes, screen and API writes record (one entry per action,
only the fields that changed, personal data masked, no secret), the auditor's search, the screen and
its CSV export."""
import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from lps_core.audit.actions import ACTIONS
from lps_core.audit.models import AuditEntry
from lps_core.audit.services import SYSTEM, Actor, record, search_audit
from lps_core.cards.models import Card
from lps_core.errors import ValidationFailed
from lps_core.members.models import Member
from lps_core.operators.services import create_operator, set_roles
from lps_core.outlets.models import Outlet
from lps_core.testing import sign_in_as
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
    # The API's routes are recorded as the same business actions as the screens'.
    [entry] = entries(seed.db, "member.enrol")
    rest = seed.db.scalar(select(Outlet.id).where(Outlet.code == "REST"))
    assert (entry.actor_kind, entry.actor_name, entry.outlet_id, entry.address) == (
        "api_key", key.split("_")[1], rest, "198.51.100.7")
    assert (entry.target_type, entry.target_id) == ("member", str(member["id"]))
    assert entry.after == {"id": member["id"], "status": "pending"}
    testapp.post_json(f"/api/v1/members/{member['id']}/approve", {}, headers={"Authorization": f"Bearer {key}"})
    [approval] = entries(seed.db, "member.approve")
    assert (approval.target_type, approval.target_id) == ("member", str(member["id"]))
    assert approval.after["status"] == "active" and approval.after["card_no"]


def test_a_tills_postings_are_their_own_record_naming_the_key_not_an_audit_entry(testapp, seed):
    from lps_core.apikeys.models import ApiKey
    from lps_core.cashier.models import Settlement, SettlementRefund
    from lps_core.earning.models import Bill, BillRefund

    key = seed.api_key("REST")
    auth = {"Authorization": f"Bearer {key}"}
    card_no = seed.member_card()
    bill = testapp.post_json("/api/v1/transactions", {"card_no": card_no, "bill_no": "T1", "amount": "80.00"},
                             headers=auth, status=201).json
    testapp.post_json(f"/api/v1/transactions/{bill['id']}/reversal", {"amount": "10.00", "refund_no": "R1"},
                      headers=auth, status=201)
    settled = testapp.post_json("/api/v1/settlements", {
        "card_no": card_no, "bill_no": "S1", "tenders": [{"kind": "cash", "amount": "100.00"}],
        "items": [{"sku": "STEAK", "category": "food", "qty": "1", "amount": "100.00"}]}, headers=auth, status=201).json
    testapp.post_json(f"/api/v1/settlements/{settled['id']}/refunds", {}, headers=auth, status=201)
    assert entries(seed.db) == []
    key_id = seed.db.scalar(select(ApiKey.id).where(ApiKey.prefix == key.split("_")[1]))
    for model in (Bill, BillRefund, Settlement, SettlementRefund):
        assert set(seed.db.scalars(select(model.api_key_id))) == {key_id}, model.__tablename__


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
    # A change keeps only the fields that changed: the user name did not.
    assert changed.before == {"roles": ["cashier"], "outlets": ["REST"]}
    assert changed.after == {"roles": ["cashier", "front_desk"], "outlets": ["REST", "SPA"]}
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
    # The password change is one entry, the service's: no second, generic one for the same POST.
    [change] = entries(seed.db, "operator.password")
    assert (change.actor_kind, change.actor_id, change.actor_name, change.address) == (
        "operator", operator_id, "alice", "198.51.100.7")
    assert entries(seed.db, "password") == []
    # Signing out records nothing of its own: the generic entry gives it its business name.
    testapp.post("/logout", {"csrf_token": csrf_of(testapp.get("/password"))}, extra_environ=ADDRESS, status=303)
    [sign_out] = entries(seed.db, "operator.sign_out")
    assert (sign_out.actor_name, sign_out.target_type, sign_out.before, sign_out.after) == ("alice", None, None, None)
    assert [entry.action for entry in entries(seed.db)] == [
        "operator.create", "operator.sign_in", "operator.password", "operator.sign_out"]
    for entry in entries(seed.db):
        text = repr((entry.before, entry.after, entry.target_id))
        for secret in (PASSWORD, new_password, "1234", token):
            assert secret not in text


def test_a_post_without_a_signed_in_operator_records_no_staff_entry(testapp, seed):
    page = testapp.get("/login")
    testapp.post("/login", {"username": "nobody", "password": "wrong-pass-123", "csrf_token": csrf_of(page)},
                 status=400)
    assert [entry.action for entry in entries(seed.db)] == ["operator.sign_in_failed"]


def test_a_password_typed_into_the_user_name_field_does_not_reach_the_log(testapp, seed):
    create_operator(seed.db, "alice", PASSWORD, roles=["cashier"], outlets=["REST"], must_change_password=False)
    seed.db.commit()
    page = testapp.get("/login")
    testapp.post("/login", {"username": PASSWORD, "password": "", "csrf_token": csrf_of(page)}, status=400)
    testapp.post("/login", {"username": "alice", "password": "wrong-pass-123", "csrf_token": csrf_of(page)},
                 status=400)
    failed = entries(seed.db, "operator.sign_in_failed")
    assert [entry.actor_name for entry in failed] == [PASSWORD[:2] + "***", "alice"]  # an account's name is kept
    assert not [cell for cell in every_audit_cell(seed.db) if PASSWORD in cell]


def test_a_generic_entry_keeps_lists_and_filled_in_fields_and_drops_secrets(seed):
    from webob.multidict import MultiDict

    from lps_core.audit.staff_writes import form_fields

    form = MultiDict([("roles", "cashier"), ("roles", "front_desk"), ("name", "x" * 500), ("csrf_token", "t"),
                      ("new_password", "p"), ("card_PIN", "1"), ("confirm", "p"), ("email", ""), ("note", " ")])
    assert form_fields(form)["name"] == "x" * 200
    entry_id = record(seed.db, actor=SYSTEM, action="some.route", target=None, after=form_fields(form))
    assert seed.db.get(AuditEntry, entry_id).after == {"roles": ["cashier", "front_desk"], "name": "x" * 200}


# --- Personal data and secrets never reach the log in clear (issue 9) ---------------------------------

PHONE, NEW_PHONE = "13912345678", "13787654321"
ID_NUMBER, NEW_ID_NUMBER = "11010519491231002X", "440524188001010014"
STREET, NEW_STREET = "88 Nanjing Road West, Apt 1701", "7 Huaihai Middle Road, Room 302"
EMAIL, NEW_EMAIL = "wang.fang@example.com", "fang.wang@example.org"
BIRTHDAY = "1988-07-19"
API_PHONE, API_ID_NUMBER, API_STREET = "13655554444", "310104198602151237", "1 Lujiazui Ring Road"
ADMIN_PASSWORD = "admin-pass-4711"


def every_audit_cell(db) -> list[str]:
    """The text of every column of every audit_log row, read with plain SQL (what a database dump shows)."""
    db.rollback()
    return [str(value) for row in db.execute(text("SELECT * FROM audit_log")).all() for value in row]


def test_a_full_desk_flow_leaves_no_personal_data_or_secret_in_the_audit_table(testapp, seed):
    key = seed.api_key("REST")
    token = sign_in_as(testapp, seed, "boss", ADMIN_PASSWORD, ["administrator"], ["all"])
    testapp.post("/members/new", {"csrf_token": token, "outlet": "REST", "name": "Wang Fang", "phone": PHONE,
                                  "email": EMAIL, "birthday": BIRTHDAY, "gender": "female", "id_number": ID_NUMBER,
                                  "address": STREET, "referrer_card_no": ""}, extra_environ=ADDRESS, status=303)
    seed.db.rollback()
    member_id = seed.db.scalar(select(Member.id).where(Member.name == "Wang Fang"))
    testapp.post(f"/approvals/{member_id}/approve", {"csrf_token": token, "card_type": "standard"}, status=303)
    testapp.post(f"/members/{member_id}/edit", {
        "csrf_token": token, "name": "Wang Fang", "phone": NEW_PHONE, "email": NEW_EMAIL, "birthday": BIRTHDAY,
        "gender": "female", "id_number": NEW_ID_NUMBER, "address": NEW_STREET}, status=303)
    testapp.post(f"/members/{member_id}/points", {"csrf_token": token, "points": "300", "outlet": "REST",
                                                  "reason": f"goodwill, guest called from {PHONE}",
                                                  "request_key": "k1"}, status=303)
    testapp.post(f"/members/{member_id}/contacts", {"csrf_token": token, "channel": "phone",
                                                    "note": f"new number {NEW_PHONE}, mail {NEW_EMAIL}"}, status=303)
    testapp.post(f"/members/{member_id}/family", {"csrf_token": token, "name": "Wang Xiao", "relation": "child",
                                                  "birthday": "2015-03-02"}, status=303)
    seed.db.rollback()
    card_no = seed.db.scalar(select(Card.card_no).where(Card.member_id == member_id))
    for status, reason in (("frozen", "guest asked"), ("active", "found it")):
        testapp.post(f"/members/{member_id}/cards/{card_no}/status",
                     {"csrf_token": token, "status": status, "reason": reason}, status=303)
    new_password = "changed-pass-0815"
    testapp.post("/password", {"csrf_token": token, "password": new_password, "confirm": new_password}, status=303)
    # Another member's data through the API.
    auth = {"Authorization": f"Bearer {key}"}
    made = testapp.post_json("/api/v1/members", {"name": "Li Lei", "phone": API_PHONE, "channel": "desk",
                                                 "id_number": API_ID_NUMBER, "address": API_STREET},
                             headers=auth, status=201).json
    testapp.post_json(f"/api/v1/members/{made['id']}/approve", {}, headers=auth, status=200)
    testapp.post("/logout", {"csrf_token": csrf_of(testapp.get("/password"))}, status=303)  # a new session's

    cells = every_audit_cell(seed.db)
    actions = {entry.action for entry in entries(seed.db)}
    assert {"member.enrol", "member.approve", "member.edit", "points.adjust", "member.contact", "member.family.add",
            "card.status", "operator.password", "operator.sign_out"} <= actions
    assert actions <= set(ACTIONS), "an action without a human name (a route's name)"
    clear = [PHONE, NEW_PHONE, "+86" + PHONE, ID_NUMBER, NEW_ID_NUMBER, STREET, NEW_STREET, EMAIL, NEW_EMAIL,
             BIRTHDAY, "2015-03-02", API_PHONE, API_ID_NUMBER, API_STREET, ADMIN_PASSWORD, new_password, token,
             key, key.split("_", 2)[2]]
    for value in clear:
        assert not [cell for cell in cells if value.lower() in cell.lower()], value
    # A phone number written with spaces is found too.
    spaced = [cell for cell in cells if PHONE in "".join(cell.split())]
    assert not spaced
    # What an auditor sees instead.
    [edit] = entries(seed.db, "member.edit")
    assert edit.before["phone"].endswith("5678") and edit.after["phone"].endswith("4321")
    assert edit.after["id_number"] == "*" * 14 + "0014" and edit.after["email"] == "f***@example.org"
    [enrol] = [entry for entry in entries(seed.db, "member.enrol") if entry.actor_kind == "operator"]
    assert enrol.after.get("birthday") in (None, "***") and "2015" not in str(entries(seed.db, "member.family.add"))


def test_the_service_masks_whatever_a_caller_passes(seed):
    db = seed.db
    entry_id = record(db, actor=SYSTEM, action="plugin.thing", target=("member", 1), before=None, after={
        "mobile": "+86 139 1234 5678", "idNumber": ID_NUMBER, "passport_no": "E12345678", "home_address": STREET,
        "e_mail": EMAIL, "date_of_birth": BIRTHDAY, "phone_index": "ab" * 32,
        "api_key": "lps_0123456789ab_" + "s" * 43, "pin": "123456", "session_token": "t0k3n",
        "must_change_password": True,
        "note": f"call {PHONE} or +86 137 8765 4321, ID {ID_NUMBER}, mail {EMAIL}, key lps_0123456789ab_{'s' * 43}",
        "first": "8800000000000013", "amount": "12345678901.00", "card_no": "13912345678",
        "family": [{"name": "Wang Xiao", "birthday": "2015-03-02", "phone": PHONE}],
    })
    after = db.get(AuditEntry, entry_id).after
    assert after == {
        "mobile": "+86*******5678", "idNumber": "*" * 14 + "002X", "passport_no": "*****5678", "home_address": "***",
        "e_mail": "w***@example.com", "date_of_birth": "***", "phone_index": "aba" + "*" * 57 + "abab",
        "must_change_password": True,
        "note": "call *******5678 or **********4321, ID **************002X, mail w***@example.com, key ***",
        "first": "8800000000000013", "amount": "12345678901.00", "card_no": "13912345678",
        "family": [{"name": "Wang Xiao", "birthday": "***", "phone": "139****5678"}],
    }


def test_a_change_keeps_only_what_differs_and_a_new_thing_only_what_is_filled_in():
    from lps_core.audit.services import changes

    assert changes({"name": "A", "email": None, "note": "", "roles": ["x"]},
                   {"name": "B", "email": "", "note": None, "roles": ["x"]}) == ({"name": "A"}, {"name": "B"})
    assert changes({"email": "a@b.cn", "phone": None}, {"email": "", "phone": "139"}) == (
        {"email": "a@b.cn", "phone": None}, {"email": "", "phone": "139"})  # cleared, and set where it was empty
    assert changes(None, {"name": "A", "email": "", "family": [{"name": "B", "birthday": None}], "tags": []}) == (
        None, {"name": "A", "family": [{"name": "B"}]})
    assert changes({"name": "A"}, {"name": "A"}) == (None, None)


def test_the_masks():
    from lps_core.audit.masking import looks_personal, mask_email, mask_id_number, mask_phone

    assert mask_phone("13800000042") == "138****0042" and mask_phone("138-0000-0042") == "138****0042"
    assert mask_phone("12345") == "***"
    assert mask_id_number("11010519491231002X") == "**************002X" and mask_id_number("123") == "***"
    assert mask_email("wang@example.com") == "w***@example.com" and mask_email("nonsense") == "***"
    assert looks_personal("11010519491231002X") and not looks_personal("11010519491231002Y")  # check digit
    assert looks_personal("+85291234567") and looks_personal("02112345678") and not looks_personal("8800000000000013")


# --- One entry per action, a readable diff, human names -----------------------------------------------

def test_an_edit_records_one_entry_with_only_the_changed_fields_and_a_human_name(testapp, seed):
    token = sign_in_as(testapp, seed, "boss", ADMIN_PASSWORD, ["administrator"], ["all"])
    seed.db.rollback()
    member_id = seed.db.scalar(select(Member.id).join(Card, Card.member_id == Member.id)
                               .where(Card.card_no == seed.member_card("Wang Fang")))
    before = len(entries(seed.db))
    profile = {"csrf_token": token, "name": "Wang Fang", "phone": "+8613800000000", "email": "", "birthday": "",
               "gender": "unspecified", "id_number": "", "address": ""}
    testapp.post(f"/members/{member_id}/edit", {**profile, "name": "Wang Fang-Li"}, status=303)
    [edit] = entries(seed.db)[before:]  # one entry for the one action
    assert (edit.action, edit.before, edit.after) == ("member.edit", {"name": "Wang Fang"}, {"name": "Wang Fang-Li"})
    card_no = seed.db.scalar(select(Card.card_no).where(Card.member_id == member_id))
    testapp.post(f"/members/{member_id}/cards/{card_no}/status",
                 {"csrf_token": token, "status": "frozen", "reason": "guest asked"}, status=303)
    testapp.post("/members/new", {"csrf_token": token, "outlet": "SPA", "name": "Zhao Min", "phone": "13700001111",
                                  "email": "", "birthday": "", "id_number": "", "address": "", "gender": ""},
                 status=303)
    [enrol] = entries(seed.db, "member.enrol")
    assert all(value not in ("", None, [], {}) for value in enrol.after.values())  # no blank fields dumped

    page = testapp.get("/audit", {"target_type": "member", "target_id": str(member_id)})
    [row] = page.html.select("table.audit tbody tr")
    assert row.select_one("td.what").contents[0].strip() == "Member edited"
    assert row.select_one("td.what code").text == "member.edit"
    assert row.select_one("td.target").text.split() == ["Member", str(member_id)]
    assert [" ".join(item.text.split()) for item in row.select("ul.diff li")] == ["Name Wang Fang → Wang Fang-Li"]
    frozen = testapp.get("/audit", {"action": "card.status"}).html.select_one("table.audit tbody tr")
    assert frozen.select_one("td.what").contents[0].strip() == "Card frozen"
    assert "Status active → frozen" in [" ".join(item.text.split()) for item in frozen.select("ul.diff li")]
    # The action filter lists human names; the screen's texts come in Chinese too.
    options = {option["value"]: option.text for option in page.html.select("#action option")}
    assert options["member.edit"] == "Member edited" and options["card.status"] == "Card status changed"
    testapp.get("/locale/zh_CN")
    chinese = testapp.get("/audit", {"action": "member.edit"})
    assert chinese.html.select_one("table.audit td.what").contents[0].strip() == zh_cn("Member edited")
    status = testapp.get("/audit", {"action": "card.status"}).html.select_one("table.audit ul.diff li")
    assert status.select_one(".field").text == zh_cn("Status") and "frozen" not in status.text  # named, not the code


def test_times_in_a_diff_read_as_the_locale_writes_them_and_as_iso_in_the_file(testapp, seed):
    sign_in_as(testapp, seed, "boss", ADMIN_PASSWORD, ["administrator"], ["all"])
    record(seed.db, actor=SYSTEM, action="promotion.edit", target=("promotion", 1),
           before={"ends_at": "2030-01-01T00:00:00+00:00"}, after={"ends_at": "2031-06-30T00:00:00+00:00"})
    seed.db.commit()
    [change] = testapp.get("/audit", {"action": "promotion.edit"}).html.select("table.audit ul.diff li")
    text_ = " ".join(change.text.split())
    assert text_.startswith("Ends at Jan 1, 2030, ") and " → Jun 30, 2031, " in text_ and "T00:00" not in text_
    export = testapp.get("/audit", {"action": "promotion.edit", "format": "csv"}).body.decode("utf-8")
    assert "Ends at: 2030-01-01T00:00:00+00:00 → 2031-06-30T00:00:00+00:00" in export


def zh_cn(message) -> str:
    """The Chinese of a text of the audit screen, from its domain's catalog."""
    from pathlib import Path

    from babel.messages.pofile import read_po

    import lps_core

    path = Path(lps_core.__file__).parent / "locale" / "zh_CN" / "LC_MESSAGES" / "lps_config.po"
    with path.open("rb") as handle:
        translation = read_po(handle)[message].string
    assert translation and translation != message
    return translation


def test_every_action_and_field_name_has_its_chinese():
    from lps_core.audit.actions import ACTIONS, CARD_STATUS_NAMES, FIELDS, TARGETS

    for name in (*ACTIONS.values(), *CARD_STATUS_NAMES.values(), *FIELDS.values(), *TARGETS.values()):
        assert name.domain == "lps_config" and zh_cn(str(name))


def test_a_form_sent_twice_is_one_action_and_one_entry(testapp, seed):
    token = sign_in_as(testapp, seed, "boss", ADMIN_PASSWORD, ["administrator"], ["all"])
    seed.db.rollback()
    member_id = seed.db.scalar(select(Member.id).join(Card, Card.member_id == Member.id)
                               .where(Card.card_no == seed.member_card("Wang Fang")))
    before = len(entries(seed.db))
    form = {"csrf_token": token, "points": "300", "outlet": "REST", "reason": "goodwill", "request_key": "once"}
    testapp.post(f"/members/{member_id}/points", form, status=303)
    testapp.post(f"/members/{member_id}/points", form, status=303)  # answered from the first posting
    assert [entry.action for entry in entries(seed.db)[before:]] == ["points.adjust"]


def test_the_session_counts_its_writes(seed):
    from sqlalchemy import update

    from lps_core.audit.services import writes_in

    db = seed.db
    db.rollback()
    start = writes_in(db)
    db.scalar(select(Member.id))
    assert writes_in(db) == start
    db.execute(update(Outlet).where(Outlet.code == "REST").values(name="Restaurant"))
    db.execute(text("UPDATE outlets SET name = name WHERE code = 'SPA'"))
    assert writes_in(db) == start + 2
    db.get(Outlet, db.scalar(select(Outlet.id).where(Outlet.code == "REST"))).name = "The restaurant"
    db.flush()
    assert writes_in(db) == start + 3


def test_the_audit_page_fits_a_tablet_without_scrolling_sideways(testapp, seed):
    """The layout's rules: a fixed table layout at full width, long values wrap, no overflow box."""
    sign_in_as(testapp, seed, "boss", ADMIN_PASSWORD, ["administrator"], ["all"])
    page = testapp.get("/audit")
    sheets = [link["href"] for link in page.html.select("link[rel=stylesheet]")]
    assert any(href.endswith("/audit.css") for href in sheets) and not any(href.endswith("/config.css") for href in sheets)
    css = testapp.get(next(href for href in sheets if href.endswith("/audit.css"))).text
    assert "table-layout: fixed" in css and "overflow-wrap: anywhere" in css and "overflow-x" not in css


# --- CSV export --------------------------------------------------------------------------------------

def test_the_filtered_list_exports_to_csv_with_masked_values(testapp, seed):
    token = sign_in_as(testapp, seed, "boss", ADMIN_PASSWORD, ["administrator"], ["all"])
    testapp.post("/members/new", {"csrf_token": token, "outlet": "REST", "name": "=HYPERLINK(\"x\")", "phone": PHONE,
                                  "id_number": ID_NUMBER, "address": STREET}, status=303)
    testapp.post("/members/new", {"csrf_token": token, "outlet": "SPA", "name": "Zhao Min", "phone": NEW_PHONE},
                 status=303)
    page = testapp.get("/audit", {"action": "member.enrol"})
    link = page.html.select_one("a#export")["href"]
    assert "format=csv" in link and "action=member.enrol" in link
    export = testapp.get(link)
    assert export.content_type == "text/csv" and "attachment" in export.headers["Content-Disposition"]
    assert export.headers["Cache-Control"] == "no-store"
    text_ = export.body.decode("utf-8")
    assert text_.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text_.lstrip("\ufeff"))))
    assert rows[0] == ["Time", "Who", "Kind of actor", "Address", "Action", "Action code", "Target", "Changes"]
    assert [row[4:6] for row in rows[1:]] == [["Member enrolled", "member.enrol"]] * 2  # sign-ins filtered out
    newest, oldest = rows[1], rows[2]
    assert newest[1] == "boss" and "Zhao Min" in newest[7]
    assert "Name: =HYPERLINK" in oldest[7]  # inside the cell, never at its start
    assert PHONE not in text_ and ID_NUMBER not in text_ and STREET not in text_
    # A bad filter answers the page with the error beside the field, not a file.
    bad = testapp.get("/audit", {"format": "csv", "since": "soon"}, status=400)
    assert bad.content_type == "text/html" and bad.html.select_one("#since")["aria-invalid"] == "true"


def test_a_csv_cell_that_a_spreadsheet_would_run_is_defused(testapp, seed):
    sign_in_as(testapp, seed, "boss", ADMIN_PASSWORD, ["administrator"], ["all"])
    for address in ("=1+1", "+86", "-2", "@SUM(A1)", "plain", None):
        record(seed.db, actor=SYSTEM, action="jobs.expire", target=None, address=address)
    seed.db.commit()
    export = testapp.get("/audit", {"action": "jobs.expire", "format": "csv"}).body.decode("utf-8")
    rows = list(csv.reader(io.StringIO(export.lstrip("\ufeff"))))
    assert [row[3] for row in rows[1:]] == ["", "plain", "'@SUM(A1)", "'-2", "'+86", "'=1+1"]  # newest first
