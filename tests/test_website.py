"""The website's API (scope website) through WebTest, on SQLite and PostgreSQL: sign-up into the
approval queue once per reference, sign-in verification with the portal's throttling, the
handover to the portal, and a member's points, tier, ledger and rewards. The sync lists are in
tests/test_website_sync.py."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from webtest import TestApp

from lps_core.audit.models import AuditEntry
from lps_core.members.models import Member
from lps_core.members.services import approve_member, reject_member
from lps_core.rewards.models import Redemption
from lps_core.rewards.services import create_reward
from lps_core.timeutil import utcnow
from lps_core.website.models import PortalHandover, WebsiteSignUp

PASSWORD = "website-pass-2026"


@pytest.fixture
def website(seed):
    return {"Authorization": f"Bearer {seed.api_key('REST', scopes=['website'])}"}


@pytest.fixture
def till(seed):
    return {"Authorization": f"Bearer {seed.api_key('REST', scopes=['transactions'])}"}


def signup(reference="web-1", **fields):
    return {"reference": reference, "name": "Chen Jing", "phone": "+8613911112222", "email": "chen.jing@example.com",
            "password": PASSWORD, **fields}


def signed_up_member(testapp, website, seed, reference="web-1", approve=True, **fields):
    """A member signed up through the website (and approved); returns (member id, card no.)."""
    member_id = testapp.post_json("/api/v1/website/signups", signup(reference, **fields), headers=website).json[
        "member_id"]
    card_no = approve_member(seed.db, member_id) if approve else None
    seed.db.commit()
    return member_id, card_no


def fresh(db, statement):
    db.rollback()  # a new snapshot: what the app committed
    return db.scalar(statement)


# --- Scope ------------------------------------------------------------------------------------------------

def test_every_website_call_needs_the_website_scope(testapp, seed):
    other = {"Authorization": f"Bearer {seed.api_key('REST', scopes=['members', 'cards.read', 'rewards'])}"}
    answer = testapp.post_json("/api/v1/website/signups", signup(), headers=other, status=403).json
    assert answer["fields"] == {"Authorization": "lacks scope website"}
    testapp.get("/api/v1/website/members/1", headers=other, status=403)
    testapp.get("/api/v1/website/members", headers=other, status=403)
    testapp.get("/api/v1/website/ledger-entries", status=401)


# --- Sign-up ----------------------------------------------------------------------------------------------

def test_a_sign_up_waits_in_the_approval_queue_once_per_reference(testapp, seed, website):
    first = testapp.post_json("/api/v1/website/signups", signup(language="en"), headers=website, status=201).json
    assert first == {"member_id": first["member_id"], "reference": "web-1", "status": "pending", "card_no": None,
                     "reason": None, "replayed": False}
    member = seed.db.get(Member, first["member_id"])
    assert (member.status, member.channel, member.enrolled_outlet_id, member.phone, member.language) == \
        ("pending", "web", None, "+8613911112222", "en")
    # A resend (a timeout on the website's side) answers the first sign-up and enrols nobody else.
    again = testapp.post_json("/api/v1/website/signups", signup(language="en"), headers=website, status=200).json
    assert again == {**first, "replayed": True}
    other = testapp.post_json("/api/v1/website/signups", signup(language="en", name="Someone Else"),
                              headers=website, status=409).json
    assert other["fields"] == {"reference": "already used for a sign-up with other details"}
    assert fresh(seed.db, select(func.count()).select_from(Member)) == 1
    entries = seed.db.scalars(select(AuditEntry).where(AuditEntry.action == "member.enrol")).all()
    assert [(entry.actor_kind, entry.target_id, entry.after["website_reference"]) for entry in entries] == \
        [("api_key", str(first["member_id"]), "web-1")]


def test_a_sign_up_names_every_bad_field(testapp, seed, website):
    answer = testapp.post_json("/api/v1/website/signups", {"reference": "bad ref!", "name": " ", "email": "nope",
                                                          "gender": "x", "colour": "red"},
                               headers=website, status=400).json
    assert set(answer["fields"]) == {"reference", "name", "email", "gender", "colour"}
    answer = testapp.post_json("/api/v1/website/signups", {"reference": "r1", "name": "No Contact"},
                               headers=website, status=422).json
    assert answer["fields"] == {"phone": "give a phone number or an e-mail address"}
    answer = testapp.post_json("/api/v1/website/signups", signup("r2", phone="12"), headers=website, status=422).json
    assert set(answer["fields"]) == {"phone"}
    answer = testapp.post_json("/api/v1/website/signups", signup("r3", password="short"), headers=website,
                               status=422).json
    assert answer["fields"] == {"password": "must be at least 10 characters"}
    assert fresh(seed.db, select(func.count()).select_from(Member)) == 0
    assert fresh(seed.db, select(func.count()).select_from(WebsiteSignUp)) == 0


def test_a_phone_a_member_holds_is_named_unless_shared_knowingly(testapp, seed, website):
    first, _ = signed_up_member(testapp, website, seed, "web-1")
    answer = testapp.post_json("/api/v1/website/signups", signup("web-2", name="Chen Family"), headers=website,
                               status=409).json
    assert answer["code"] == "duplicate_phone"
    assert answer["existing_members"] == [{"id": first, "name": "Chen Jing"}]
    shared = testapp.post_json("/api/v1/website/signups", signup("web-2", name="Chen Family",
                                                                 force_duplicate_phone=True),
                               headers=website, status=201).json
    assert shared["member_id"] != first


def test_a_sign_up_status_follows_the_staff_decision(testapp, seed, website):
    approved, card_no = signed_up_member(testapp, website, seed, "web-1")
    rejected, _ = signed_up_member(testapp, website, seed, "web-2", approve=False, phone="+8613911113333")
    reject_member(seed.db, rejected, "a duplicate of an existing membership")
    seed.db.commit()
    assert testapp.get("/api/v1/website/signups/web-1", headers=website).json == {
        "member_id": approved, "reference": "web-1", "status": "active", "card_no": card_no, "reason": None,
        "replayed": False}
    assert testapp.get("/api/v1/website/signups/web-2", headers=website).json["reason"] == \
        "a duplicate of an existing membership"
    assert testapp.get("/api/v1/website/signups/web-3", headers=website, status=404).json["fields"] == {
        "reference": "no sign-up has this reference"}


# --- Sign-in verification ------------------------------------------------------------------------------

def verify(testapp, website, identifier, password=PASSWORD, address="203.0.113.7", status=200):
    return testapp.post_json("/api/v1/website/sign-in", {"identifier": identifier, "password": password,
                                                         "address": address}, headers=website, status=status).json


def test_sign_in_is_verified_with_the_portal_password(testapp, seed, website):
    member_id, card_no = signed_up_member(testapp, website, seed)
    for identifier in (card_no, "139 1111 2222"):
        assert verify(testapp, website, identifier) == {"verdict": "accepted", "member": {
            "id": member_id, "name": "Chen Jing", "status": "active", "card_no": card_no,
            "tier": {"code": "classic", "name": "Classic"}, "points_balance": 0}}
    wrong = verify(testapp, website, card_no, "not-the-password")
    nobody = verify(testapp, website, "8800999999994", "not-the-password")
    assert wrong == nobody == {"verdict": "refused", "member": None}


def test_a_pending_member_is_told_only_after_the_right_password(testapp, seed, website):
    signed_up_member(testapp, website, seed, approve=False)
    assert verify(testapp, website, "13911112222", "wrong-password-1")["verdict"] == "refused"
    assert verify(testapp, website, "13911112222")["verdict"] == "pending"


def test_five_wrong_passwords_lock_the_account_and_many_failures_throttle_the_address(testapp, seed, website):
    _, card_no = signed_up_member(testapp, website, seed)
    for attempt in range(5):
        assert verify(testapp, website, card_no, f"wrong-{attempt}", address="203.0.113.8")["verdict"] == "refused"
    assert verify(testapp, website, card_no, address="203.0.113.9")["verdict"] == "refused"  # locked
    for attempt in range(20):
        verify(testapp, website, "8800999999994", f"guess-{attempt}", address="198.51.100.20")
    assert verify(testapp, website, "8800999999994", address="198.51.100.20")["verdict"] == "throttled"
    assert verify(testapp, website, "8800999999994", address="198.51.100.21")["verdict"] == "refused"


def test_sign_in_verification_names_bad_fields(testapp, seed, website):
    answer = testapp.post_json("/api/v1/website/sign-in", {"identifier": "", "password": "", "address": "my pc"},
                               headers=website, status=400).json
    assert set(answer["fields"]) == {"identifier", "password", "address"}


# --- Handover to the portal ------------------------------------------------------------------------------

@pytest.fixture
def browser(wsgi_app, seed):
    return TestApp(wsgi_app, extra_environ={"REMOTE_ADDR": "203.0.113.50"})


def handover(testapp, website, member_id, status=201, **fields):
    return testapp.post_json("/api/v1/website/handover", {"member_id": member_id, **fields}, headers=website,
                             status=status).json


def test_a_handover_signs_the_member_in_to_the_portal_once(testapp, seed, website, browser):
    member_id, _ = signed_up_member(testapp, website, seed)
    made = handover(testapp, website, member_id, next="/portal/rewards")
    assert re.fullmatch(r"http://localhost/portal/handover\?token=[A-Za-z0-9_-]{32}\.[A-Za-z0-9_-]{43}", made["url"])
    assert made["next"] == "/portal/rewards"
    landed = browser.get(made["url"], status=303)
    assert landed.location == "http://localhost/portal/rewards"
    assert "Chen Jing" in browser.get("/portal").text  # signed in: the dashboard, not the sign-in page
    # Used once: the same link again signs nobody in, in another browser.
    other = TestApp(browser.app)
    again = other.get(made["url"], status=303)
    assert again.location == "http://localhost/portal/sign-in"
    assert "has expired or was used already" in other.get("/portal/sign-in").text
    assert other.get("/portal", status=303).location.startswith("http://localhost/portal/sign-in")


def test_a_forged_or_expired_handover_signs_nobody_in(testapp, seed, website, browser):
    member_id, _ = signed_up_member(testapp, website, seed)
    token = handover(testapp, website, member_id)["token"]
    nonce, signature = token.split(".")
    forged = f"{nonce}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    assert browser.get(f"/portal/handover?token={forged}", status=303).location.endswith("/portal/sign-in")
    # The forged try used the token up: the real one is no good either.
    assert browser.get(f"/portal/handover?token={token}", status=303).location.endswith("/portal/sign-in")
    late = handover(testapp, website, member_id)["token"]
    seed.db.execute(update(PortalHandover).values(expires_at=utcnow() - timedelta(seconds=1)))
    seed.db.commit()
    assert browser.get(f"/portal/handover?token={late}", status=303).location.endswith("/portal/sign-in")
    assert browser.get("/portal/handover", status=303).location.endswith("/portal/sign-in")
    assert browser.get("/portal", status=303).location.startswith("http://localhost/portal/sign-in")
    chinese = TestApp(browser.app, extra_environ={"HTTP_ACCEPT_LANGUAGE": "zh-CN"})
    chinese.get(f"/portal/handover?token={late}", status=303)
    assert "来自酒店网站的登录链接已过期或已被使用" in chinese.get("/portal/sign-in").text


def test_a_handover_is_refused_for_whom_cannot_sign_in(testapp, seed, website):
    pending, _ = signed_up_member(testapp, website, seed, approve=False)
    assert handover(testapp, website, pending, status=422)["fields"] == {"member_id": "is waiting for approval"}
    assert handover(testapp, website, 999999, status=404)["fields"] == {"member_id": "no such member"}
    answer = handover(testapp, website, pending, status=400, next="https://evil.example/")
    assert set(answer["fields"]) == {"next"}
    assert fresh(seed.db, select(func.count()).select_from(PortalHandover)) == 0


# --- The member's points, tier and rewards -----------------------------------------------------------------

def earn(testapp, till, card_no, bill_no, amount):
    return testapp.post_json("/api/v1/transactions", {"card_no": card_no, "bill_no": bill_no, "amount": amount},
                             headers=till, status=201).json


def test_balance_ledger_and_tier_of_a_member(testapp, seed, website, till):
    member_id, card_no = signed_up_member(testapp, website, seed)
    earn(testapp, till, card_no, "B1", "120.00")
    earn(testapp, till, card_no, "B2", "80.00")
    member = testapp.get(f"/api/v1/website/members/{member_id}", headers=website).json
    assert (member["points_balance"], member["card_no"], member["tier"]) == (200, card_no,
                                                                              {"code": "classic", "name": "Classic"})
    assert [card["card_no"] for card in member["cards"]] == [card_no]
    assert sum(row["points"] for row in member["expiring"]) == 200
    ledger = testapp.get(f"/api/v1/website/members/{member_id}/ledger?per_page=1", headers=website).json
    assert (ledger["total"], ledger["points_balance"], len(ledger["entries"])) == (2, 200, 1)
    assert (ledger["entries"][0]["points"], ledger["entries"][0]["balance_after"]) == (80, 200)
    second = testapp.get(f"/api/v1/website/members/{member_id}/ledger?per_page=1&page=2", headers=website).json
    assert second["entries"][0]["points"] == 120
    tier = testapp.get(f"/api/v1/website/members/{member_id}/tier", headers=website).json
    assert (tier["member_id"], tier["tier"]["code"], tier["activity"]["points"]) == (member_id, "classic", 200)
    testapp.get("/api/v1/website/members/999999", headers=website, status=404)
    testapp.get("/api/v1/website/members/999999/ledger", headers=website, status=404)
    answer = testapp.get(f"/api/v1/website/members/{member_id}/ledger?per_page=1000", headers=website, status=400)
    assert set(answer.json["fields"]) == {"per_page"}


def test_rewards_a_member_can_reserve_and_reservation(testapp, seed, website, till):
    member_id, card_no = signed_up_member(testapp, website, seed)
    earn(testapp, till, card_no, "B1", "300.00")
    create_reward(seed.db, "MUG", {"name": "Mug", "category": "item", "cost_cents": 100, "points_price": 200,
                                   "stock": 1})
    create_reward(seed.db, "SUITE", {"name": "Suite night", "category": "item", "cost_cents": 100,
                                     "points_price": 5000})
    seed.db.commit()
    offers = testapp.get(f"/api/v1/website/members/{member_id}/rewards", headers=website).json
    assert [(offer["code"], offer["missing_points"], offer["reservable"]) for offer in offers["offers"]] == \
        [("MUG", 0, True), ("SUITE", 4700, False)]
    url = f"/api/v1/website/members/{member_id}/reservations"
    made = testapp.post_json(url, {"reward": "MUG", "outlet": "SPA", "request_key": "basket-1"}, headers=website,
                             status=201).json
    assert (made["status"], made["points"], made["points_balance"], made["outlet"]) == \
        ("awaiting_pickup", 200, 100, "SPA")
    again = testapp.post_json(url, {"reward": "MUG", "outlet": "SPA", "request_key": "basket-1"}, headers=website,
                              status=200).json
    assert (again["no"], again["replayed"]) == (made["no"], True)
    assert testapp.post_json(url, {"reward": "SUITE", "outlet": "SPA", "request_key": "basket-2"}, headers=website,
                             status=409).json["fields"] == {"points": "needs 5000 points, the member has 100"}
    assert testapp.post_json(url, {"reward": "MUG", "outlet": "NOPE", "request_key": "basket-3"}, headers=website,
                             status=422).json["fields"] == {"outlet": "no active outlet has this code"}
    listed = testapp.get(f"/api/v1/website/members/{member_id}/rewards", headers=website).json
    assert [(row["no"], row["status"]) for row in listed["reservations"]] == [(made["no"], "awaiting_pickup")]
    cancelled = testapp.post_json(f"{url}/{made['no']}/cancel", {}, headers=website).json
    assert (cancelled["status"], cancelled["points_balance"]) == ("cancelled", 300)
    testapp.post_json(f"{url}/{made['no']}/cancel", {}, headers=website, status=409)
    other, _ = signed_up_member(testapp, website, seed, "web-2", phone="+8613911113333")
    testapp.post_json(f"/api/v1/website/members/{other}/reservations/{made['no']}/cancel", {}, headers=website,
                      status=404)
    assert fresh(seed.db, select(func.count()).select_from(Redemption)) == 1


def test_simultaneous_resends_of_a_sign_up_enrol_one_member(server, seed):
    """Ten copies of one sign-up at once (a website retrying after timeouts): one member, one answer."""
    from lps_core.testing import post_all_at_once

    key = {"Authorization": f"Bearer {seed.api_key('REST', scopes=['website'])}"}
    results = post_all_at_once(server, "/api/v1/website/signups", [signup("web-race")] * 10, key)
    assert sorted(status for status, _ in results) == [200] * 9 + [201]
    assert len({answer["member_id"] for _, answer in results}) == 1
    assert fresh(seed.db, select(func.count()).select_from(Member)) == 1
