"""The member screens: dashboard, member search, the member page and its actions, enrolment at the
desk and the approval queue; each signed in as operators of different roles and outlet scopes."""
import re

import pytest
from sqlalchemy import func, select

from lps_core.audit.models import AuditEntry
from lps_core.cards.models import Card
from lps_core.ledger.models import Account, LedgerEntry
from lps_core.ledger.services import credit
from lps_core.members.models import ContactLogEntry, FamilyMember, Member, MemberPreference
from lps_core.members.services import Enrolment, enrol_member
from lps_core.operators.services import create_operator
from lps_core.outlets.models import Outlet
from lps_core.timeutil import utcnow

PASSWORD = "first-pass-123"


def csrf_of(page):
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def sign_in_as(testapp, seed, username, roles, outlets=("all",)):
    create_operator(seed.db, username, PASSWORD, roles=roles, outlets=list(outlets), must_change_password=False)
    seed.db.commit()
    page = testapp.get("/login")
    testapp.post("/login", {"username": username, "password": PASSWORD, "csrf_token": csrf_of(page)}, status=303)
    return csrf_of(testapp.get("/password"))


@pytest.fixture
def manager(testapp, seed):
    """An outlet manager of the whole hotel T (REST and SPA): every member action."""
    return sign_in_as(testapp, seed, "manager", ["outlet_manager"], ["T"])


def member_of(db, card_no) -> Member:
    db.rollback()  # a new transaction: on SQLite a read transaction keeps seeing its first snapshot
    return db.scalar(select(Member).join(Card, Card.member_id == Member.id).where(Card.card_no == card_no))


def audit(db, action):
    db.rollback()
    return db.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)).all()


# --- Search ------------------------------------------------------------------------------------------

def test_search_by_card_phone_name_and_balance(testapp, seed, manager):
    card_no = seed.member_card("Wang Fang")
    seed.member_card("Li Lei")
    page = testapp.get("/members", {"card_no": card_no})
    rows = page.html.select("table.results tbody tr")
    assert len(rows) == 1 and "Wang Fang" in rows[0].text
    assert f'/cashier?card_no={card_no}' in page.text and f'/rewards?card_no={card_no}' in page.text
    # Phone is encrypted at rest: it matches exactly through its blind index, spaces ignored.
    assert len(testapp.get("/members", {"phone": "+86 138 0000 0000"}).html.select("table.results tbody tr")) == 2
    assert len(testapp.get("/members", {"name": "wang"}).html.select("table.results tbody tr")) == 1
    assert not testapp.get("/members", {"balance_min": "1"}).html.select("table.results tbody tr")
    names = [row.a.text for row in testapp.get("/members", {"sort": "name", "desc": "1"}).html.select("table.results tbody tr")]
    assert names == ["Wang Fang", "Li Lei"]


def test_a_bad_search_criterion_is_answered_beside_its_field(testapp, seed, manager):
    page = testapp.get("/members", {"enrolled_from": "yesterday", "birthday_month": "13"}, status=400)
    assert page.html.select_one("#enrolled_from")["aria-invalid"] == "true"
    assert "must be a date such as 1990-05-17" in page.text and "must be a whole number from 1 to 12" in page.text


# --- Member page ---------------------------------------------------------------------------------------

def test_the_member_page_shows_profile_cards_tier_and_ledger(testapp, seed, manager):
    card_no = seed.member_card("Wang Fang")
    member = member_of(seed.db, card_no)
    page = testapp.get(f"/members/{member.id}")
    assert "Wang Fang" in page.text and card_no in page.text and "+8613800000000" in page.text
    assert page.html.select_one("#tier") and page.html.select_one("#ledger")
    testapp.get("/members/999999", status=404)


def test_edit_profile_writes_encrypted_fields_with_their_index_and_audits(testapp, seed, manager):
    member = member_of(seed.db, seed.member_card("Wang Fang"))
    form = {"csrf_token": manager, "name": "Wang Fang", "phone": "+8613911112222", "email": "wf@example.com",
            "birthday": "1990-05-04", "gender": "female", "id_number": "110101199005040011", "address": "1 Bund Road"}
    bad = testapp.post(f"/members/{member.id}/edit", {**form, "email": "not-mail", "birthday": "04/05/1990"}, status=400)
    assert bad.html.select_one("#email")["aria-invalid"] == "true" and "must be an e-mail address" in bad.text
    assert bad.html.select_one("#name")["value"] == "Wang Fang"
    testapp.post(f"/members/{member.id}/edit", form, status=303).follow()
    assert testapp.get("/members", {"phone": "+8613911112222"}).html.select("table.results tbody tr")
    assert testapp.get("/members", {"id_number": "110101199005040011"}).html.select("table.results tbody tr")
    entry = audit(seed.db, "member.edit")[-1]
    assert entry.actor_name == "manager" and entry.after["phone"].endswith("2222")
    assert "+8613911112222" not in str(entry.after)  # personal data stays out of the log


def test_adjust_points_needs_a_reason_posts_once_and_is_audited(testapp, seed, manager):
    card_no = seed.member_card("Wang Fang")
    member = member_of(seed.db, card_no)
    url = f"/members/{member.id}/points"
    refused = testapp.post(url, {"csrf_token": manager, "points": "500", "reason": "", "outlet": "REST",
                                 "request_key": "k1"}, status=400)
    assert refused.html.select_one("#adjust-reason")["aria-invalid"] == "true"
    assert refused.html.select_one("#adjust-points")["value"] == "500"
    form = {"csrf_token": manager, "points": "500", "reason": "complaint goodwill", "outlet": "REST", "request_key": "k2"}
    testapp.post(url, form, status=303)
    testapp.post(url, form, status=303)  # the same form sent twice posts once
    seed.db.rollback()
    assert seed.db.scalar(select(Account.balance).where(Account.id == seed.points_account(card_no))) == 500
    entry = seed.db.scalar(select(LedgerEntry).where(LedgerEntry.business_key == f"adjust:{member.id}:k2"))
    assert entry.kind == "adjustment" and entry.note == "complaint goodwill"
    too_much = testapp.post(url, {**form, "points": "-900", "request_key": "k3"}, status=409)
    assert "only 500 available" in too_much.text
    testapp.post(url, {**form, "points": "-200", "request_key": "k4"}, status=303)
    seed.db.rollback()
    assert seed.db.scalar(select(Account.balance).where(Account.id == seed.points_account(card_no))) == 300
    entries = audit(seed.db, "points.adjust")
    assert [e.after["points"] for e in entries] == [500, -200] and entries[0].after["reason"] == "complaint goodwill"
    assert "complaint goodwill" in testapp.get(f"/members/{member.id}").text


def test_adjusting_points_needs_the_permission_and_an_outlet_in_scope(testapp, seed):
    member = member_of(seed.db, seed.member_card())
    token = sign_in_as(testapp, seed, "rest.manager", ["outlet_manager"], ["REST"])
    form = {"csrf_token": token, "points": "50", "reason": "goodwill", "request_key": "x"}
    testapp.post(f"/members/{member.id}/points", {**form, "outlet": "SPA"}, status=403)
    testapp.post(f"/members/{member.id}/points", {**form, "outlet": ""}, status=400)
    testapp.post(f"/members/{member.id}/points", {**form, "outlet": "REST"}, status=303)
    testapp.post("/logout", {"csrf_token": token})
    desk = sign_in_as(testapp, seed, "desk", ["front_desk"], ["REST"])
    testapp.post(f"/members/{member.id}/points", {**form, "csrf_token": desk, "outlet": "REST"}, status=403)
    assert "adjust-points" not in testapp.get(f"/members/{member.id}").text


def test_a_form_without_its_csrf_token_is_refused(testapp, seed, manager):
    member = member_of(seed.db, seed.member_card())
    testapp.post(f"/members/{member.id}/points", {"points": "50", "reason": "x", "outlet": "REST"}, status=400)
    assert not audit(seed.db, "points.adjust")


def test_freeze_unfreeze_and_replace_a_lost_card(testapp, seed, manager):
    card_no = seed.member_card("Wang Fang")
    member = member_of(seed.db, card_no)
    url = f"/members/{member.id}/cards/{card_no}"
    assert testapp.post(f"{url}/status", {"csrf_token": manager, "status": "frozen", "reason": ""}, status=400)
    testapp.post(f"{url}/status", {"csrf_token": manager, "status": "frozen", "reason": "guest asked"}, status=303)
    seed.db.rollback()
    assert seed.db.scalar(select(Card.status).where(Card.card_no == card_no)) == "frozen"
    testapp.post(f"{url}/status", {"csrf_token": manager, "status": "active", "reason": "found it"}, status=303)
    # A pool number that does not exist refuses the whole action: the card is not left lost.
    testapp.post(f"{url}/replace", {"csrf_token": manager, "reason": "lost at the pool", "outlet": "REST",
                                     "new_card_no": "4111111111111111"}, status=422)
    seed.db.rollback()
    assert seed.db.scalar(select(Card.status).where(Card.card_no == card_no)) == "active"
    testapp.post(f"{url}/replace", {"csrf_token": manager, "reason": "lost at the pool", "outlet": "SPA"}, status=303)
    seed.db.rollback()
    old = seed.db.scalar(select(Card).where(Card.card_no == card_no))
    assert old.status == "replaced" and old.replaced_by_id is not None
    new_no = seed.db.scalar(select(Card.card_no).where(Card.id == old.replaced_by_id))
    assert [e.action for e in audit(seed.db, "card.status")] == ["card.status", "card.status"]
    assert audit(seed.db, "card.replace")[0].after["card_no"] == new_no
    assert new_no in testapp.get(f"/members/{member.id}").text


def test_family_preferences_and_contact_log(testapp, seed, manager):
    member = member_of(seed.db, seed.member_card("Wang Fang"))
    url = f"/members/{member.id}"
    bad = testapp.post(f"{url}/family", {"csrf_token": manager, "name": "", "relation": "child"}, status=400)
    assert bad.html.select_one("#family-name")["aria-invalid"] == "true"
    testapp.post(f"{url}/family", {"csrf_token": manager, "name": "Wang Xiao", "relation": "child",
                                   "birthday": "2015-06-01"}, status=303)
    testapp.post(f"{url}/preferences", {"csrf_token": manager, "room": "high floor", "pillow": "buckwheat",
                                        "dietary": ""}, status=303)
    testapp.post(f"{url}/contacts", {"csrf_token": manager, "channel": "fax", "note": ""}, status=400)
    testapp.post(f"{url}/contacts", {"csrf_token": manager, "channel": "phone",
                                     "note": "Called about the anniversary stay"}, status=303)
    page = testapp.get(url)
    assert "Wang Xiao" in page.text and "buckwheat" in page.text and "Called about the anniversary stay" in page.text
    db = seed.db
    db.rollback()
    contact = db.scalar(select(ContactLogEntry))
    assert contact.operator_name == "manager" and contact.channel == "phone"
    assert {p.key: p.value for p in db.scalars(select(MemberPreference))} == {"room": "high floor", "pillow": "buckwheat"}
    family_id = db.scalar(select(FamilyMember.id))
    testapp.post(f"{url}/family/{family_id}/remove", {"csrf_token": manager}, status=303)
    db.rollback()
    assert db.scalar(select(FamilyMember.id)) is None
    assert {e.action for e in db.scalars(select(AuditEntry).where(AuditEntry.action.startswith("member.")))} >= {
        "member.family.add", "member.family.remove", "member.preferences", "member.contact"}


# --- Enrolment and approval -----------------------------------------------------------------------

def test_enrol_at_the_desk_then_approve_with_a_card(testapp, seed, manager):
    bad = testapp.post("/members/new", {"csrf_token": manager, "outlet": "REST", "name": "", "phone": "abc"},
                       status=400)
    assert bad.html.select_one("#name")["aria-invalid"] == "true" and bad.html.select_one("#phone")["aria-invalid"] == "true"
    testapp.post("/members/new", {"csrf_token": manager, "outlet": "SPA", "name": "Zhao Min", "phone": "+8613700001111",
                                  "gender": "female"}, status=303).follow()
    db = seed.db
    db.rollback()
    member = db.scalar(select(Member).where(Member.name == "Zhao Min"))
    assert member.status == "pending" and member.channel == "desk"
    queue = testapp.get("/approvals")
    assert "Zhao Min" in queue.text
    assert "1" in testapp.get("/").html.select_one("#pending .figure").text
    testapp.post(f"/approvals/{member.id}/approve", {"csrf_token": manager, "card_type": "standard"}, status=303)
    db.rollback()
    assert db.get(Member, member.id).status == "active"
    card_no = db.scalar(select(Card.card_no).where(Card.member_id == member.id))
    assert audit(db, "member.enrol")[0].after["name"] == "Zhao Min"
    assert audit(db, "member.approve")[0].after["card_no"] == card_no
    again = testapp.post(f"/approvals/{member.id}/approve", {"csrf_token": manager, "card_type": "standard"}, status=409)
    assert "is active" in again.text


def test_reject_needs_a_reason_and_keeps_it(testapp, seed, manager):
    testapp.post("/members/new", {"csrf_token": manager, "outlet": "REST", "name": "Sun Yi", "email": "sy@example.com"},
                 status=303)
    seed.db.rollback()
    member_id = seed.db.scalar(select(Member.id).where(Member.name == "Sun Yi"))
    refused = testapp.post(f"/approvals/{member_id}/reject", {"csrf_token": manager, "reason": " "}, status=400)
    assert refused.html.select_one(f"#reason-{member_id}")["aria-invalid"] == "true"
    testapp.post(f"/approvals/{member_id}/reject", {"csrf_token": manager, "reason": "duplicate of an existing member"},
                 status=303)
    seed.db.rollback()
    member = seed.db.get(Member, member_id)
    assert member.status == "rejected" and member.status_reason == "duplicate of an existing member"
    assert "Sun Yi" not in testapp.get("/approvals").text
    assert audit(seed.db, "member.reject")[0].after["reason"] == "duplicate of an existing member"


def test_the_approval_queue_and_enrolment_keep_to_the_outlet_scope(testapp, seed):
    token = sign_in_as(testapp, seed, "spa.manager", ["outlet_manager"], ["SPA"])
    testapp.post("/members/new", {"csrf_token": token, "outlet": "REST", "name": "Outside", "phone": "+8613700002222"},
                 status=403)
    testapp.post("/members/new", {"csrf_token": token, "outlet": "SPA", "name": "Inside", "phone": "+8613700003333"},
                 status=303)
    seed.db.rollback()
    rest = seed.db.scalar(select(Outlet.id).where(Outlet.code == "REST"))
    other = enrol_member(seed.db, Enrolment(name="Rest Guest", channel="desk", phone="+8613700004444"), rest)
    web = enrol_member(seed.db, Enrolment(name="Web Guest", channel="web", email="w@example.com"))
    seed.db.commit()
    queue = testapp.get("/approvals").text
    assert "Inside" in queue and "Rest Guest" not in queue and "Web Guest" not in queue
    testapp.post(f"/approvals/{other}/approve", {"csrf_token": token, "card_type": "standard"}, status=403)
    testapp.post(f"/approvals/{web}/reject", {"csrf_token": token, "reason": "spam"}, status=403)


# --- Dashboard --------------------------------------------------------------------------------------------

def test_the_dashboard_shows_panels_by_role(testapp, seed):
    card_no = seed.member_card()
    account = seed.points_account(card_no)
    rest = seed.db.scalar(select(Outlet.id).where(Outlet.code == "REST"))
    credit(seed.db, account, 120, kind="earn", business_key="b1", fingerprint="f", expires_at=utcnow().replace(year=2099),
           outlet_id=rest)
    seed.db.execute(Card.__table__.update().where(Card.card_no == card_no).values(
        pin_locked_until=utcnow().replace(year=2099), issued_outlet_id=rest))
    seed.db.commit()
    sign_in_as(testapp, seed, "cashier.spa", ["cashier"], ["SPA"])
    page = testapp.get("/")
    assert page.html.select_one("#postings .figure").text.strip() == "0"  # REST's posting is not theirs
    assert not page.html.select_one("#pending") and not page.html.select_one("#alerts")
    testapp.post("/logout", {"csrf_token": csrf_of(page)})
    sign_in_as(testapp, seed, "boss", ["outlet_manager"], ["REST"])
    page = testapp.get("/")
    assert page.html.select_one("#postings .figure").text.strip() == "1" and "120" in page.html.select_one("#postings").text
    assert page.html.select_one("#pending") is not None
    assert card_no in page.html.select_one("#alerts").text


# --- Hostile input on every member form -----------------------------------------------------------

NUL, LONG = "a\x00b", "x" * 10_000
# form -> (path under the member's page, a valid form, the element showing each field's error)
MEMBER_FORMS = {
    "family": ("/family", {"name": "Wang Xiao", "relation": "child", "birthday": "2015-06-01"},
               {"name": "#family-name", "relation": "#family-relation", "birthday": "#family-birthday"}),
    "preferences": ("/preferences", {"room": "high floor", "pillow": "soft", "dietary": "none"},
                    {"room": "#preference-room", "pillow": "#preference-pillow", "dietary": "#preference-dietary"}),
    "contact": ("/contacts", {"channel": "phone", "note": "called"},
                {"note": "#contact-note", "channel": "#contact-channel"}),
    "adjust": ("/points", {"points": "500", "reason": "goodwill", "outlet": "REST", "request_key": "k"},
               {"points": "#adjust-points", "reason": "#adjust-reason", "outlet": "#adjust-outlet"}),
    "status": ("/cards/{card}/status", {"status": "frozen", "reason": "asked"},
               {"reason": "#status-reason-{card}"}),
    "replace": ("/cards/{card}/replace", {"reason": "lost", "outlet": "REST"},
                {"reason": "#replace-reason-{card}", "new_card_no": "#replace-new-{card}",
                 "outlet": "#replace-outlet-{card}"}),
    "edit": ("/edit", {"name": "Wang Fang", "phone": "+8613800000000", "gender": "female"},
             {"name": "#name", "email": "#email", "birthday": "#birthday", "id_number": "#id_number",
              "address": "#address", "phone": "#phone"}),
}
HOSTILE = [
    ("family", "name", NUL), ("family", "relation", LONG), ("family", "birthday", "2015-02-30"),
    ("family", "birthday", "yesterday"), ("family", "birthday", "9999-12-31"),
    ("preferences", "room", NUL), ("preferences", "dietary", LONG),
    ("contact", "note", NUL), ("contact", "note", LONG), ("contact", "channel", "fax\x00"),
    ("adjust", "points", "five hundred"), ("adjust", "points", str(10**30)), ("adjust", "points", "-" + str(10**30)),
    ("adjust", "points", "1e3"), ("adjust", "points", "５００"), ("adjust", "points", "12.5"), ("adjust", "points", "0"),
    ("adjust", "reason", NUL), ("adjust", "reason", LONG), ("adjust", "outlet", "RE\x00ST"),
    ("status", "reason", NUL), ("status", "reason", LONG),
    ("replace", "reason", LONG), ("replace", "new_card_no", NUL), ("replace", "new_card_no", LONG),
    ("replace", "outlet", LONG),
    ("edit", "name", NUL), ("edit", "name", LONG), ("edit", "email", "a\x00@example.com"),
    ("edit", "birthday", "1990-13-01"), ("edit", "birthday", "tomorrow"), ("edit", "id_number", LONG),
    ("edit", "address", NUL), ("edit", "phone", "five five five"), ("edit", "phone", LONG),
]


def stored(db, member_id):
    """What a refused form must leave as it was: the member, their cards, points and what the desk keeps."""
    db.rollback()
    member = db.get(Member, member_id)
    return ({field: getattr(member, field) for field in ("name", "phone", "email", "birthday", "id_number", "address")},
            db.execute(select(Card.card_no, Card.status).where(Card.member_id == member_id).order_by(Card.id)).all(),
            db.execute(select(LedgerEntry.id)).all(), db.execute(select(FamilyMember.id)).all(),
            db.execute(select(MemberPreference.key, MemberPreference.value)).all(),
            db.execute(select(ContactLogEntry.id)).all(), db.execute(select(AuditEntry.id)).all())


@pytest.mark.parametrize(("form", "field", "value"), HOSTILE,
                         ids=[f"{form}-{field}-{value[:12].encode('unicode_escape', 'backslashreplace').decode()}"
                              for form, field, value in HOSTILE])
def test_a_hostile_value_is_refused_beside_its_field_and_nothing_is_stored(testapp, seed, manager, form, field, value):
    card_no = seed.member_card("Wang Fang")
    member = member_of(seed.db, card_no)
    path, valid, shown = MEMBER_FORMS[form]
    before = stored(seed.db, member.id)
    page = testapp.post(f"/members/{member.id}{path.format(card=card_no)}",
                        {"csrf_token": manager, **valid, field: value}, expect_errors=True)
    assert 400 <= page.status_int < 500
    assert page.html.select_one(shown[field].format(card=card_no))["aria-invalid"] == "true"
    assert stored(seed.db, member.id) == before


@pytest.mark.parametrize(("field", "value"), [
    ("name", NUL), ("name", LONG), ("birthday", "1990-02-30"), ("birthday", "the fifth"), ("address", LONG),
    ("id_number", "11010519491231002X\x00"), ("email", LONG + "@example.com"), ("referrer_card_no", NUL),
    ("outlet", NUL), ("gender", "robot")])
def test_a_hostile_enrolment_is_refused_beside_its_field_and_nobody_is_enrolled(testapp, seed, manager, field, value):
    seed.db.rollback()
    members = seed.db.scalar(select(func.count(Member.id)))
    page = testapp.post("/members/new", {"csrf_token": manager, "outlet": "REST", "name": "Zhao Min",
                                         "phone": "+8613700001111", field: value}, expect_errors=True)
    assert 400 <= page.status_int < 500
    if field != "gender":
        assert page.html.select_one(f"#{field}")["aria-invalid"] == "true"
    else:
        assert "must be one of" in page.text
    seed.db.rollback()
    assert seed.db.scalar(select(func.count(Member.id))) == members


def test_the_desk_enrolment_and_the_api_share_one_schema(testapp, seed, manager):
    """The same bad values are refused with the same messages on the screen and on the API."""
    from lps_core.members.schemas import EnrolmentIn
    from lps_core.validation import validate
    from lps_core.errors import ValidationFailed
    with pytest.raises(ValidationFailed) as refused:
        validate(EnrolmentIn, {"name": NUL, "channel": "desk", "id_number": "x!"})
    page = testapp.post("/members/new", {"csrf_token": manager, "outlet": "REST", "name": NUL, "phone": "+8613700001111",
                                         "id_number": "x!"}, status=400)
    for message in refused.value.fields.values():
        assert message in page.text


@pytest.mark.parametrize(("field", "value"), [
    ("name", NUL), ("name", LONG), ("phone", NUL), ("id_number", LONG), ("card_no", NUL), ("tier", NUL),
    ("enrolled_from", "2026-02-30"), ("enrolled_to", "last week"), ("balance_min", "ten"),
    ("balance_max", str(10**30)), ("birthday_month", "13"), ("birthday_month", "May"), ("status", "gone\x00")])
def test_a_hostile_search_criterion_is_named_and_the_others_still_apply(testapp, seed, manager, field, value):
    seed.member_card("Wang Fang")
    seed.member_card("Li Lei")
    page = testapp.get("/members", {field: value, "name" if field != "name" else "status": "wang"
                                    if field != "name" else "active"}, status=400)
    assert page.html.select_one(f"#{field}")["aria-invalid"] == "true"
    rows = page.html.select("table.results tbody tr")
    assert len(rows) == (1 if field != "name" else 2)


@pytest.mark.parametrize(("action", "field", "value"), [
    ("reject", "reason", NUL), ("reject", "reason", LONG), ("approve", "card_type", NUL),
    ("approve", "card_type", LONG)])
def test_a_hostile_approval_or_rejection_is_refused_and_the_enrolment_stays_pending(testapp, seed, manager, action,
                                                                                    field, value):
    member_id = enrol_member(seed.db, Enrolment(name="Sun Li", channel="desk", email="sun@example.com"),
                             seed.db.scalar(select(Outlet.id).where(Outlet.code == "REST")))
    seed.db.commit()
    page = testapp.post(f"/approvals/{member_id}/{action}", {"csrf_token": manager, field: value}, status=400)
    assert page.html.select_one(f"#{field}-{member_id}")["aria-invalid"] == "true"
    seed.db.rollback()
    assert seed.db.get(Member, member_id).status == "pending"
    assert not audit(seed.db, f"member.{action}")


def test_ids_and_card_numbers_beyond_their_columns_are_not_found(testapp, seed, manager):
    card_no = seed.member_card("Wang Fang")
    member = member_of(seed.db, card_no)
    testapp.get("/members/99999999999", status=404)
    testapp.get("/members/99999999999999999999999", status=404)
    testapp.post("/members/99999999999/points", {"csrf_token": manager, "points": "5", "reason": "x",
                                                 "outlet": "REST"}, status=404)
    testapp.post(f"/members/{member.id}/family/99999999999/remove", {"csrf_token": manager}, status=404)
    testapp.post(f"/members/{member.id}/cards/88%0001/status", {"csrf_token": manager, "status": "frozen",
                                                                "reason": "x"}, status=404)
    testapp.post(f"/members/{member.id}/cards/{'8' * 100}/replace", {"csrf_token": manager, "reason": "x",
                                                                     "outlet": "REST"}, status=404)
    testapp.post("/approvals/99999999999/approve", {"csrf_token": manager}, status=404)
    seed.db.rollback()
    assert seed.db.scalar(select(Card.status).where(Card.card_no == card_no)) == "active"
