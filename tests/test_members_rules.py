"""The members' rules that hold on every path: phone numbers in E.164 (one number however it is
written, for storage, blind index, search and look-up, and the upgrade that rewrites stored ones),
duplicate phone numbers at enrolment, no bearer card type for a named member, and who may change a
member enrolled at another outlet."""
import hashlib
import hmac
import os
import uuid

import pytest
from sqlalchemy import create_engine, insert, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from lps_core.cards.lifecycle import sell_anonymous_card
from lps_core.cards.models import Card, CardType
from lps_core.db import get_engine
from lps_core.db.migrate import upgrade
from lps_core.earning.services import OutletContext
from lps_core.errors import ConfigurationError, Forbidden
from lps_core.ledger.models import Account
from lps_core.members.models import Member
from lps_core.members.services import (
    DuplicatePhone,
    Enrolment,
    approve_member,
    enrol_member,
    require_card_holder_write,
)
from lps_core.operators.access import OutletScope, api_key_scope, may_write_member
from lps_core.outlets.models import Outlet
from lps_core.pii import PiiKeys, phone_e164
from lps_core.testing import TEST_SETTINGS, sign_in_as

PASSWORD = "first-pass-123"
THREE_FORMS = ("13800000042", "138-0000-0042", "+86 138 0000 0042")
E164 = "+8613800000042"


def api(seed, outlet="REST"):
    return {"Authorization": f"Bearer {seed.api_key(outlet)}"}


def outlet_id(db, code):
    return db.scalar(select(Outlet.id).where(Outlet.code == code))


def fresh(db, statement):
    db.rollback()  # a new snapshot: see what the app committed
    return db.scalar(statement)


# --- Phone numbers in E.164 ----------------------------------------------------------------------

def test_phone_numbers_are_read_in_the_default_region_and_written_in_e164():
    assert {phone_e164(form, "CN") for form in THREE_FORMS} == {E164}
    assert phone_e164("１３８００００００４２", "CN") == E164  # full-width digits, as typed by an IME
    assert phone_e164("030 1234567", "DE") == "+49301234567"
    assert phone_e164("+49 30 1234567", "CN") == "+49301234567"  # a country code wins over the region
    for bad in ("12345", "1-800-FLOWERS", "138\x0000000042", "+86 138 0000 0042 ext", "", None, 13800000042):
        assert phone_e164(bad, "CN") is None


def test_the_default_region_is_a_checked_setting():
    assert PiiKeys.from_settings(TEST_SETTINGS).phone_region == "CN"
    assert PiiKeys.from_settings({**TEST_SETTINGS, "lps.phone.default_region": "de"}).phone_region == "DE"
    with pytest.raises(ConfigurationError, match="lps.phone.default_region"):
        PiiKeys.from_settings({**TEST_SETTINGS, "lps.phone.default_region": "Mars"})


def test_three_written_forms_are_one_number_for_storage_index_and_cashier_look_up(testapp, seed):
    auth = api(seed)
    member = testapp.post_json("/api/v1/members", {"name": "Wang Fang", "phone": "138-0000-0042", "channel": "desk"},
                               headers=auth, status=201).json
    card_no = testapp.post_json(f"/api/v1/members/{member['id']}/approve", {}, headers=auth).json["card_no"]
    assert fresh(seed.db, select(Member.phone).where(Member.id == member["id"])) == E164
    for form in THREE_FORMS:
        assert seed.db.scalar(select(Member.id).where(Member.phone_index == form)) == member["id"]
        matches = testapp.get("/api/v1/cashier/lookup", {"phone": form}, headers=auth).json["matches"]
        assert [match["card_no"] for match in matches] == [card_no]
        assert matches[0]["member"]["phone"] == E164


def test_an_invalid_phone_number_is_refused_naming_phone(testapp, seed):
    auth = api(seed)
    refused = testapp.post_json("/api/v1/members", {"name": "A", "phone": "12345", "channel": "desk"},
                                headers=auth, status=(400, 422)).json
    assert list(refused["fields"]) == ["phone"] and "valid phone number" in refused["fields"]["phone"]
    looked_up = testapp.get("/api/v1/cashier/lookup", {"phone": "12345"}, headers=auth, status=422).json
    assert list(looked_up["fields"]) == ["phone"]
    assert fresh(seed.db, select(Member.id)) is None


def test_staff_search_and_edit_use_e164(testapp, seed):
    token = sign_in_as(testapp, seed, "manager", PASSWORD, ["outlet_manager"], ["T"])
    member_id = enrol_member(seed.db, Enrolment(name="Li Lei", channel="desk", phone="+86 138 0000 0042"))
    seed.db.commit()
    for form in THREE_FORMS:
        rows = testapp.get("/members", {"phone": form}).html.select("table.results tbody tr")
        assert len(rows) == 1 and "Li Lei" in rows[0].text
    bad = testapp.get("/members", {"phone": "12345"}, status=400)
    assert bad.html.select_one("#phone")["aria-invalid"] == "true"
    edit = {"csrf_token": token, "name": "Li Lei", "phone": "139 1111 2222", "gender": "male"}
    refused = testapp.post(f"/members/{member_id}/edit", {**edit, "phone": "12345"}, status=400)
    assert refused.html.select_one("#phone")["aria-invalid"] == "true"
    testapp.post(f"/members/{member_id}/edit", edit, status=303)
    assert fresh(seed.db, select(Member.phone).where(Member.id == member_id)) == "+8613911112222"
    assert seed.db.scalar(select(Member.id).where(Member.phone_index == "13911112222")) == member_id


@pytest.fixture
def empty_database(database_url, tmp_path):
    """A new, empty database of the test's backend, for running the migrations step by step."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path}/steps.sqlite"
        return
    server = os.environ["LPS_TEST_DATABASE_URL"]
    name = f"lps_steps_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_the_upgrade_rewrites_stored_phone_numbers_in_e164_with_their_index(empty_database):
    engine = get_engine({"sqlalchemy.url": empty_database, **TEST_SETTINGS})
    try:
        upgrade(engine, "0010")
        keys = engine.dialect.lps_pii
        with engine.begin() as connection:
            for name, phone in (("Dashes", "138-0000-0042"), ("Local", "13900000001"), ("Broken", "12345")):
                # As the code before 0011 wrote them: encrypted as typed, indexed by digits and '+'.
                digits = "".join(c for c in phone if c.isdigit() or c == "+")
                old_index = hmac.new(TEST_SETTINGS["lps.pii.index_key"].encode(), f"phone:{digits}".encode(),
                                     hashlib.sha256).hexdigest()
                connection.execute(text(
                    "INSERT INTO members (name, phone, phone_index, gender, channel, status) "
                    "VALUES (:name, :phone, :phone_index, 'unspecified', 'desk', 'active')"),
                    {"name": name, "phone": keys.encrypt(phone), "phone_index": old_index})
        upgrade(engine)
        with Session(engine) as session:
            members = {member.name: member for member in session.scalars(select(Member))}
            assert (members["Dashes"].phone, members["Local"].phone) == (E164, "+8613900000001")
            assert members["Broken"].phone == "12345"  # not a phone number: kept for staff to correct
            for form in THREE_FORMS:
                assert session.scalar(select(Member.name).where(Member.phone_index == form)) == "Dashes"
            assert session.scalar(select(Member.name).where(Member.phone_index == "139 0000 0001")) == "Local"
    finally:
        engine.dispose()


def test_the_upgrade_needs_the_keys_when_there_are_phone_numbers(empty_database):
    engine = get_engine({"sqlalchemy.url": empty_database, **TEST_SETTINGS})
    upgrade(engine, "0010")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO members (name, phone, gender, channel, status) "
                                "VALUES ('A', 'gAAAA-not-read', 'unspecified', 'desk', 'active')"))
    engine.dispose()
    bare = get_engine({"sqlalchemy.url": empty_database})
    try:
        with pytest.raises(ConfigurationError, match="lps.pii.keys"):
            upgrade(bare)
    finally:
        bare.dispose()


# --- Duplicate phone numbers at enrolment --------------------------------------------------------

def test_enrolling_a_phone_a_member_holds_is_a_409_naming_the_member_unless_forced(testapp, seed):
    auth = api(seed)
    first = testapp.post_json("/api/v1/members", {"name": "Wang Fang", "phone": "+86 138 0000 0042",
                                                  "channel": "web"}, headers=auth, status=201).json
    refused = testapp.post_json("/api/v1/members", {"name": "Wang F.", "phone": "138-0000-0042", "channel": "desk"},
                                headers=auth, status=409).json
    assert refused["code"] == "duplicate_phone"
    assert refused["existing_members"] == [{"id": first["id"], "name": "Wang Fang"}]
    assert f"member {first['id']} (Wang Fang)" in refused["fields"]["phone"]
    assert "0042" not in str(refused)  # the member is named, the number is not repeated
    assert fresh(seed.db, select(Member.id).where(Member.name == "Wang F.")) is None
    # Forced: another person sharing the number (the service's parameter, which the API field sets).
    second = enrol_member(seed.db, Enrolment(name="Wang Lei", channel="desk", phone="13800000042"),
                          force_duplicate_phone=True)
    seed.db.commit()
    assert seed.db.scalar(select(Member.phone).where(Member.id == second)) == E164


def test_a_rejected_enrolment_does_not_hold_its_phone_number(db, seed):
    rejected = enrol_member(db, Enrolment(name="Spam", channel="web", phone=E164))
    db.execute(update(Member).where(Member.id == rejected).values(status="rejected"))
    real = enrol_member(db, Enrolment(name="Real Guest", channel="web", phone="13800000042"))
    with pytest.raises(DuplicatePhone) as refused:
        enrol_member(db, Enrolment(name="Again", channel="web", phone="138 0000 0042"))
    assert refused.value.existing == [{"id": real, "name": "Real Guest"}]


def test_the_desk_warns_of_a_duplicate_phone_and_enrols_only_when_ticked(testapp, seed):
    token = sign_in_as(testapp, seed, "desk.manager", PASSWORD, ["outlet_manager"], ["T"])
    existing = enrol_member(seed.db, Enrolment(name="Zhao Min", channel="desk", phone=E164), outlet_id(seed.db, "SPA"))
    seed.db.commit()
    form = {"csrf_token": token, "outlet": "REST", "name": "Zhao M.", "phone": "138-0000-0042", "gender": "female"}
    warned = testapp.post("/members/new", form, status=409)
    warning = warned.html.select_one("#duplicate-phone")
    assert "Zhao Min" in warning.text and warning.select_one(f'a[href$="/members/{existing}"]')
    assert warned.html.select_one("#force_duplicate_phone")["type"] == "checkbox"
    assert warned.html.select_one("#name")["value"] == "Zhao M."  # the form is kept
    assert fresh(seed.db, select(Member.id).where(Member.name == "Zhao M.")) is None
    testapp.post("/members/new", {**form, "force_duplicate_phone": "on"}, status=303)
    assert fresh(seed.db, select(Member.phone).where(Member.name == "Zhao M.")) == E164


# --- Bearer cards --------------------------------------------------------------------------------

@pytest.fixture
def gift_type(seed):
    seed.db.execute(insert(CardType).values(code="gift", name="Gift card", prefix="8803", stored_value=True,
                                            anonymous=True, pin_required=True))
    seed.db.commit()
    return "gift"


def test_a_named_member_is_never_approved_with_a_bearer_card_type(testapp, seed, gift_type):
    auth = api(seed)
    member = testapp.post_json("/api/v1/members", {"name": "Sun Li", "email": "sl@example.com", "channel": "web"},
                               headers=auth, status=201).json
    refused = testapp.post_json(f"/api/v1/members/{member['id']}/approve", {"card_type": "gift"}, headers=auth,
                                status=422).json
    assert "anonymous" in refused["fields"]["card_type"]
    seed.db.rollback()
    assert seed.db.get(Member, member["id"]).status == "pending"
    assert seed.db.scalar(select(Card.id).where(Card.member_id == member["id"])) is None
    assert seed.db.scalar(select(Account.id).where(Account.member_id == member["id"])) is None
    # The screen (which offers no bearer type) is refused the same way when one is posted.
    token = sign_in_as(testapp, seed, "approver", PASSWORD, ["outlet_manager"], ["all"])
    page = testapp.post(f"/approvals/{member['id']}/approve", {"csrf_token": token, "card_type": "gift"}, status=422)
    assert "anonymous" in page.text
    # Without a type, approval issues the first member card type, never the bearer one.
    card_no = approve_member(seed.db, member["id"])
    assert card_no.startswith("8800")


def test_approval_picks_a_member_card_type_even_when_a_bearer_type_comes_first(db, plugins):
    db.execute(insert(CardType).values(code="gift", name="Gift card", prefix="8803", anonymous=True))
    db.execute(insert(CardType).values(code="member", name="Member card", prefix="8800"))
    member_id = enrol_member(db, Enrolment(name="Gu Yue", channel="web", email="gy@example.com"))
    assert approve_member(db, member_id).startswith("8800")


def test_a_bearer_cards_redemption_is_refused_with_a_real_message(testapp, seed, gift_type):
    card = sell_anonymous_card(seed.db, gift_type, "2468", outlet_id=outlet_id(seed.db, "REST"))
    seed.db.commit()
    auth = api(seed)
    testapp.post_json("/api/v1/rewards", {"code": "MUG", "name": "Hotel mug", "category": "item", "cost": "5.00",
                                          "stock": 10}, headers=auth)
    refused = testapp.post_json("/api/v1/redemptions", {"card_no": card.card_no, "reward": "MUG",
                                                        "request_no": "R1"}, headers=auth, status=422).json
    assert "None" not in str(refused)
    assert card.card_no in refused["detail"] and "member" in refused["detail"]
    assert "redeem" in refused["detail"]


# --- Member-level writes by outlet-scoped staff --------------------------------------------------

def test_the_member_write_rule():
    rest, spa = 1, 2
    everywhere, at_spa = OutletScope(True, frozenset()), OutletScope(False, frozenset({spa}))
    assert may_write_member(everywhere, rest) and may_write_member(at_spa, spa)
    assert not may_write_member(at_spa, rest)
    assert may_write_member(at_spa, None)  # enrolled on the website or by head office: the programme's member
    assert not may_write_member(None, None)
    assert api_key_scope(OutletContext(spa, "SPA")) == at_spa


def test_an_outlets_api_key_changes_only_cards_of_its_own_members(db, seed):
    card_no = seed.member_card("Rest Guest")
    member_id = db.scalar(select(Card.member_id).where(Card.card_no == card_no))
    db.execute(update(Member).where(Member.id == member_id).values(enrolled_outlet_id=outlet_id(db, "REST")))
    with pytest.raises(Forbidden) as refused:
        require_card_holder_write(db, api_key_scope(OutletContext(outlet_id(db, "SPA"), "SPA")), card_no)
    assert refused.value.status == 403 and f"member {member_id}" in refused.value.message
    require_card_holder_write(db, api_key_scope(OutletContext(outlet_id(db, "REST"), "REST")), card_no)


def test_the_card_api_changes_only_cards_of_the_keys_own_members(testapp, seed):
    db = seed.db
    card_no = seed.member_card("Rest Guest")
    member_id = db.scalar(select(Card.member_id).where(Card.card_no == card_no))
    db.execute(update(Member).where(Member.id == member_id).values(enrolled_outlet_id=outlet_id(db, "REST")))
    db.commit()
    spa = {"Authorization": f"Bearer {seed.api_key('SPA', scopes=['cards.manage'])}"}
    rest = {"Authorization": f"Bearer {seed.api_key('REST', scopes=['cards.manage'])}"}
    refused = testapp.post_json(f"/api/v1/cards/{card_no}/status", {"status": "frozen", "reason": "x"}, headers=spa,
                                status=403).json
    assert f"member {member_id}" in refused["detail"]
    testapp.post_json(f"/api/v1/cards/{card_no}/replace", {"reason": "lost"}, headers=spa, status=403)
    assert fresh(db, select(Card.status).where(Card.card_no == card_no)) == "active"
    testapp.post_json(f"/api/v1/cards/{card_no}/status", {"status": "frozen", "reason": "asked"}, headers=rest)
    assert fresh(db, select(Card.status).where(Card.card_no == card_no)) == "frozen"


def test_outlet_staff_serve_every_member_but_change_only_their_outlets_members(testapp, seed):
    db = seed.db
    card_no = seed.member_card("Rest Guest")
    member_id = db.scalar(select(Card.member_id).where(Card.card_no == card_no))
    db.execute(update(Member).where(Member.id == member_id).values(enrolled_outlet_id=outlet_id(db, "REST")))
    web_card = seed.member_card("Web Guest")  # enrolled at no outlet
    web_member = db.scalar(select(Card.member_id).where(Card.card_no == web_card))
    db.commit()
    token = sign_in_as(testapp, seed, "spa.manager", PASSWORD, ["outlet_manager"], ["SPA"])
    url = f"/members/{member_id}"
    page = testapp.get(url)
    assert "Rest Guest" in page.text and page.html.select_one("#read-only")
    assert not page.html.select_one("#edit-profile") and not page.html.select_one("#adjust")
    assert not page.html.select_one(f"#freeze-{card_no}")
    testapp.get(f"{url}/edit", status=403)
    testapp.post(f"{url}/edit", {"csrf_token": token, "name": "Renamed", "email": "r@example.com"}, status=403)
    testapp.post(f"{url}/points", {"csrf_token": token, "points": "500", "reason": "goodwill", "outlet": "SPA",
                                   "request_key": "k1"}, status=403)
    testapp.post(f"{url}/cards/{card_no}/status", {"csrf_token": token, "status": "frozen", "reason": "x"}, status=403)
    testapp.post(f"{url}/cards/{card_no}/replace", {"csrf_token": token, "reason": "lost", "outlet": "SPA"},
                 status=403)
    testapp.post(f"{url}/family", {"csrf_token": token, "name": "Kid", "relation": "child"}, status=403)
    # Serving the member stays open: the contact log and preferences.
    testapp.post(f"{url}/contacts", {"csrf_token": token, "channel": "phone", "note": "Booked a massage"}, status=303)
    testapp.post(f"{url}/preferences", {"csrf_token": token, "room": "quiet", "pillow": "", "dietary": ""}, status=303)
    db.rollback()
    assert db.get(Member, member_id).name == "Rest Guest"
    assert db.scalar(select(Card.status).where(Card.card_no == card_no)) == "active"
    assert db.scalar(select(Account.balance).where(Account.id == seed.points_account(card_no))) == 0
    # A member enrolled at no outlet belongs to the whole programme: the spa's manager may change them.
    assert testapp.get(f"/members/{web_member}").html.select_one("#edit-profile")
    testapp.post(f"/members/{web_member}/points", {"csrf_token": token, "points": "50", "reason": "goodwill",
                                                   "outlet": "SPA", "request_key": "k2"}, status=303)
    testapp.post("/logout", {"csrf_token": token})
    db.rollback()  # end the read: on SQLite a stale read transaction cannot become a write
    # The restaurant's own manager may.
    rest = sign_in_as(testapp, seed, "rest.manager", PASSWORD, ["outlet_manager"], ["REST"])
    testapp.post(f"{url}/cards/{card_no}/status", {"csrf_token": rest, "status": "frozen", "reason": "asked"},
                 status=303)
    assert fresh(db, select(Card.status).where(Card.card_no == card_no)) == "frozen"


def test_renewal_pin_reset_and_tier_floor_over_the_api_follow_the_member_write_rule(testapp, seed):
    db = seed.db
    card_no = seed.member_card("Rest Regular")
    member_id = db.scalar(select(Card.member_id).where(Card.card_no == card_no))
    db.execute(update(Member).where(Member.id == member_id).values(enrolled_outlet_id=outlet_id(db, "REST")))
    db.commit()
    spa = {"Authorization": f"Bearer {seed.api_key('SPA', scopes=['cards.manage', 'tiers.manage'])}"}
    testapp.post_json(f"/api/v1/cards/{card_no}/renew", {"days": 30}, headers=spa, status=403)
    testapp.post_json(f"/api/v1/cards/{card_no}/pin", {"pin": "1234", "reset": True}, headers=spa, status=403)
    testapp.post_json(f"/api/v1/members/{member_id}/tier-floor",
                      {"tier": "gold", "expires_at": "2030-01-01T00:00:00Z"}, headers=spa, status=403)
    rest = {"Authorization": f"Bearer {seed.api_key('REST', scopes=['cards.manage', 'tiers.manage'])}"}
    testapp.post_json(f"/api/v1/members/{member_id}/tier-floor",
                      {"tier": "gold", "expires_at": "2030-01-01T00:00:00Z"}, headers=rest, status=200)
