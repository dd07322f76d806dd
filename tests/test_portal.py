"""The members' portal through WebTest, on SQLite and PostgreSQL: its own session apart from the
staff's (both directions), applying and approval, password and one-time-code sign-in with
throttling and answers that do not tell who is a member, claiming a card, resetting a password,
the dashboard after a bill, reserving and cancelling a reward, appeals, the profile and the inbox."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from webtest import TestApp

from lps_core.cards.models import Card
from lps_core.members.models import Member
from lps_core.members.services import Enrolment, approve_member, enrol_member
from lps_core.messages.models import OutboxMessage
from lps_core.portal.credentials import set_password
from lps_core.portal.models import PortalCode
from lps_core.rewards.models import Redemption, Reward
from lps_core.testing import csrf_of, sign_in_as

PASSWORD = "portal-pass-2026"


@pytest.fixture
def portal(wsgi_app, seed):
    """A browser on the portal (its own cookies), on the seeded programme."""
    return TestApp(wsgi_app, extra_environ={"REMOTE_ADDR": "198.51.100.7"})


def member(seed, name="Zhao Lei", phone="+8613900000001", email="zhao.lei@example.com", password=PASSWORD):
    """An approved member with a portal password; returns (member id, card number). Commits."""
    db = seed.db
    member_id = enrol_member(db, Enrolment(name=name, channel="desk", phone=phone, email=email))
    card_no = approve_member(db, member_id)
    if password:
        set_password(db, member_id, password)
    db.commit()
    return member_id, card_no


def sign_in(portal, identifier, password=PASSWORD, status=303):
    page = portal.get("/portal/sign-in")
    return portal.post("/portal/sign-in", {"identifier": identifier, "password": password,
                                          "csrf_token": csrf_of(page)}, status=status)


def alert(page) -> str:
    found = re.search(r'role="alert">([^<]*)<', page.text)
    return found.group(1).strip() if found else ""


def latest_code(seed, member_id) -> str:
    """The code of the newest sign_in_code message queued for the member (kept until it is sent)."""
    seed.db.rollback()
    body = seed.db.scalar(select(OutboxMessage.body).where(OutboxMessage.member_id == member_id,
                                                          OutboxMessage.event == "sign_in_code")
                          .order_by(OutboxMessage.id.desc()).limit(1))
    return re.search(r"\b(\d{6})\b", body).group(1)


def ask_code(portal, purpose, **fields):
    page = portal.get(f"/portal/code/{purpose}")
    return portal.post(f"/portal/code/{purpose}", {"action": "send", "csrf_token": csrf_of(page), **fields})


def enter_code(portal, purpose, code, status="*", **fields):
    page = portal.get(f"/portal/code/{purpose}")
    return portal.post(f"/portal/code/{purpose}", {"action": "verify", "code": code, "csrf_token": csrf_of(page),
                                                   **fields}, status=status)


# --- Two sessions that never open each other's pages ---------------------------------------------------

def test_a_staff_session_opens_no_portal_page(testapp, seed):
    sign_in_as(testapp, seed, "portal-admin", "admin-pass-2026", ["administrator"], ["all"])
    assert testapp.get("/", status=200)
    page = testapp.get("/portal", status=303)
    assert "/portal/sign-in" in page.location
    assert "lps_member" not in testapp.cookies


def test_a_member_session_opens_no_staff_screen(portal, seed):
    _, card_no = member(seed)
    sign_in(portal, card_no)
    assert portal.get("/portal").status_int == 200
    staff = portal.get("/", status=303)
    assert "/login" in staff.location
    portal.get("/members", status=303)
    cookies = {cookie.name: cookie for cookie in portal.cookiejar}
    assert cookies["lps_member"].path == "/portal"
    assert "lps_staff" not in cookies


def test_a_member_cookie_sent_to_the_staff_screens_opens_nothing(portal, testapp, seed):
    _, card_no = member(seed)
    sign_in(portal, card_no)
    token = portal.cookies["lps_member"]
    testapp.set_cookie("lps_member", token)
    testapp.set_cookie("lps_staff", token)
    assert "/login" in testapp.get("/", status=303).location


# --- Applying, approval, password sign-in --------------------------------------------------------------

def test_apply_wait_for_approval_then_sign_in(portal, seed):
    page = portal.get("/portal/register")
    done = portal.post("/portal/register", {"name": "Sun Li", "phone": "139 0000 0077", "email": "sun@example.com",
                                            "password": PASSWORD, "confirm": PASSWORD, "csrf_token": csrf_of(page)})
    assert "Thank you for applying" in done.text
    seed.db.rollback()
    applicant = seed.db.scalars(select(Member).where(Member.name == "Sun Li")).one()
    assert (applicant.status, applicant.channel, applicant.phone) == ("pending", "web", "+8613900000077")
    waiting = sign_in(portal, "13900000077", status=400)
    assert "waiting for the hotel's approval" in alert(waiting)
    approve_member(seed.db, applicant.id)
    seed.db.commit()
    signed_in = sign_in(portal, "13900000077")
    assert signed_in.location.endswith("/portal")
    home = portal.get("/portal")
    assert "Sun Li" in home.text and 'id="balance">0<' in home.text


def test_a_rejected_application_signs_nobody_in(portal, seed):
    """A rejected application no longer holds its phone number (a new application may take it)."""
    from lps_core.members.services import reject_member

    member_id = enrol_member(seed.db, Enrolment(name="Qian Yu", channel="web", phone="+8613900000088"))
    set_password(seed.db, member_id, PASSWORD)
    reject_member(seed.db, member_id, "incomplete details")
    seed.db.commit()
    assert alert(sign_in(portal, "13900000088", "wrong-password-1", status=400)) == \
        "The card number, phone number or password is not right."
    assert alert(sign_in(portal, "13900000088", status=400)) == \
        "The card number, phone number or password is not right."


def test_an_application_is_checked_field_by_field(portal, seed):
    page = portal.get("/portal/register")
    refused = portal.post("/portal/register", {"name": "", "phone": "12", "password": "short", "confirm": "x",
                                               "csrf_token": csrf_of(page)}, status=400)
    errors = re.findall(r'class="field-error">([^<]+)<', refused.text)
    assert len(errors) >= 3
    assert "at least 10 characters" in refused.text
    seed.db.rollback()
    assert seed.db.scalar(select(Member.id)) is None


def test_an_application_is_answered_in_chinese(portal, seed):
    portal.set_cookie("_LOCALE_", "zh_CN")
    page = portal.get("/portal/register")
    refused = portal.post("/portal/register", {"name": "孙丽", "phone": "12", "email": "not-an-address",
                                               "password": PASSWORD, "confirm": PASSWORD + "x",
                                               "csrf_token": csrf_of(page)}, status=400)
    errors = re.findall(r'class="field-error">([^<]+)<', refused.text)
    assert errors == ["须为手机号，例如 138 0000 0000（境外号码请加国家代码，例如 +852 9123 4567）",
                      "须为电子邮箱地址，例如 name@example.com", "两次输入的密码不一致。"]
    nothing = portal.post("/portal/register", {"name": "孙丽", "password": PASSWORD, "confirm": PASSWORD,
                                               "csrf_token": csrf_of(page)}, status=400)
    assert "请填写手机号或电子邮箱" in nothing.text


def test_an_application_with_a_members_phone_is_answered_the_same(portal, seed):
    member(seed, phone="+8613900000005")
    page = portal.get("/portal/register")
    done = portal.post("/portal/register", {"name": "Someone Else", "phone": "+8613900000005", "password": PASSWORD,
                                            "confirm": PASSWORD, "csrf_token": csrf_of(page)})
    assert "Thank you for applying" in done.text


def test_wrong_password_and_unknown_account_get_one_answer(portal, seed):
    _, card_no = member(seed)
    wrong = sign_in(portal, card_no, "not-the-password-1", status=400)
    unknown = sign_in(portal, "+8613911112222", "not-the-password-1", status=400)
    no_password = member(seed, name="No Password", phone="+8613900000009", password=None)[1]
    unset = sign_in(portal, no_password, "not-the-password-1", status=400)
    assert alert(wrong) == alert(unknown) == alert(unset) == "The card number, phone number or password is not right."


def test_an_account_locks_after_five_wrong_passwords(portal, seed):
    _, card_no = member(seed)
    for _ in range(5):
        sign_in(portal, card_no, "wrong-password-99", status=400)
    locked = sign_in(portal, card_no, PASSWORD, status=400)
    assert alert(locked) == "The card number, phone number or password is not right."


def test_an_address_is_throttled_after_many_failures(portal, seed):
    for number in range(20):
        sign_in(portal, f"+86139000011{number:02d}", "wrong-password-99", status=400)
    throttled = sign_in(portal, "+8613900001199", "wrong-password-99", status=429)
    assert "Too many attempts" in alert(throttled)


def test_sign_in_by_phone_and_sign_out(portal, seed):
    member(seed, phone="+8613900000001")
    sign_in(portal, "139-0000-0001")
    home = portal.get("/portal")
    portal.post("/portal/sign-out", {"csrf_token": csrf_of(home)}, status=303)
    assert "/portal/sign-in" in portal.get("/portal", status=303).location


def test_a_form_without_its_csrf_token_is_refused_with_a_page(portal, seed):
    refused = portal.post("/portal/sign-in", {"identifier": "x", "password": "y"}, status=400)
    assert "This form has expired" in refused.text
    assert "Traceback" not in refused.text


def test_an_unknown_portal_page_is_404_in_the_portal_layout(portal):
    missing = portal.get("/portal/no-such-page", status=404)
    assert "There is no such page." in missing.text


# --- One-time codes ----------------------------------------------------------------------------------

def test_sign_in_with_a_code_by_sms_once(portal, seed):
    member_id, card_no = member(seed)
    asked = ask_code(portal, "sign_in", identifier=card_no, channel="sms")
    assert "a code is on its way" in asked.text
    seed.db.rollback()
    queued = seed.db.scalars(select(OutboxMessage).where(OutboxMessage.member_id == member_id,
                                                         OutboxMessage.event == "sign_in_code")).all()
    assert [(message.event, message.channel, message.secret) for message in queued] == [("sign_in_code", "sms", True)]
    code = latest_code(seed, member_id)
    assert seed.db.scalar(select(PortalCode.code_hash)) != code
    signed_in = enter_code(portal, "sign_in", code, status=303)
    assert signed_in.location.endswith("/portal")
    portal.get("/portal", status=200)
    again = TestApp(portal.app, extra_environ={"REMOTE_ADDR": "198.51.100.8"})
    ask_code(again, "sign_in", identifier=card_no, channel="email")
    reused = enter_code(again, "sign_in", code, status=400)
    assert "not right or has expired" in reused.text


def test_a_code_for_nobody_is_answered_the_same_and_sends_nothing(portal, seed):
    member(seed)
    asked = ask_code(portal, "sign_in", identifier="+8613977778888", channel="sms")
    assert "a code is on its way" in asked.text
    seed.db.rollback()
    assert seed.db.scalar(select(OutboxMessage.id).where(OutboxMessage.event == "sign_in_code")) is None
    assert "not right or has expired" in enter_code(portal, "sign_in", "123456", status=400).text


def test_a_code_dies_after_five_wrong_tries_and_when_it_expires(portal, seed):
    member_id, card_no = member(seed)
    ask_code(portal, "sign_in", identifier=card_no, channel="sms")
    code = latest_code(seed, member_id)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        enter_code(portal, "sign_in", wrong, status=400)
    assert "not right or has expired" in enter_code(portal, "sign_in", code, status=400).text
    ask_code(portal, "sign_in", identifier=card_no, channel="sms")
    code = latest_code(seed, member_id)
    seed.db.execute(update(PortalCode).values(expires_at=PortalCode.expires_at - timedelta(minutes=11)))
    seed.db.commit()
    assert "not right or has expired" in enter_code(portal, "sign_in", code, status=400).text


def test_codes_per_member_are_limited(portal, seed):
    member_id, card_no = member(seed)
    for _ in range(5):
        ask_code(portal, "sign_in", identifier=card_no, channel="sms")
    seed.db.rollback()
    assert len(seed.db.scalars(select(OutboxMessage.id).where(OutboxMessage.member_id == member_id,
                                                              OutboxMessage.event == "sign_in_code")).all()) == 3


def test_a_forgotten_password_is_reset_through_a_code(portal, seed):
    member_id, card_no = member(seed)
    ask_code(portal, "reset", identifier="+8613900000001", channel="email")
    code = latest_code(seed, member_id)
    short = enter_code(portal, "reset", code, status=400, password="short", confirm="short")
    assert "at least 10 characters" in short.text
    enter_code(portal, "reset", code, status=303, password="new-password-77", confirm="new-password-77")
    other = TestApp(portal.app, extra_environ={"REMOTE_ADDR": "198.51.100.9"})
    sign_in(other, card_no, PASSWORD, status=400)
    sign_in(other, card_no, "new-password-77")


def test_claim_a_card_with_its_phone_and_a_code(portal, seed):
    member_id, card_no = member(seed, password=None)
    ask_code(portal, "claim", card_no="0000000000000", contact="+8613900000001")
    seed.db.rollback()
    assert seed.db.scalar(select(OutboxMessage.id).where(OutboxMessage.event == "sign_in_code")) is None
    asked = ask_code(portal, "claim", card_no=card_no, contact="139 0000 0001")
    assert "a code is on its way" in asked.text
    code = latest_code(seed, member_id)
    enter_code(portal, "claim", code, status=303, password="claimed-pass-1", confirm="claimed-pass-1")
    assert "Zhao Lei" in portal.get("/portal").text


def test_a_claim_with_someone_elses_phone_sends_no_code(portal, seed):
    _, card_no = member(seed, password=None)
    asked = ask_code(portal, "claim", card_no=card_no, contact="+8613955556666")
    assert "a code is on its way" in asked.text
    seed.db.rollback()
    assert seed.db.scalar(select(OutboxMessage.id).where(OutboxMessage.event == "sign_in_code")) is None


# --- Dashboard, ledger, rewards ------------------------------------------------------------------------

def post_bill(testapp, seed, card_no, bill_no="B1", amount="500.00"):
    auth = {"Authorization": f"Bearer {seed.api_key('REST')}"}
    return testapp.post_json("/api/v1/transactions", {"card_no": card_no, "bill_no": bill_no, "amount": amount},
                             headers=auth, status=201).json


def test_the_dashboard_shows_points_expiry_tier_progress_and_the_ledger(portal, testapp, seed):
    from lps_core.members.models import Tier

    seed.db.execute(update(Tier).where(Tier.code == "silver").values(qualification={"points": 3000, "nights": 10}))
    seed.db.commit()
    _, card_no = member(seed)
    post_bill(testapp, seed, card_no, amount="600.00")
    sign_in(portal, card_no)
    home = portal.get("/portal")
    assert 'id="balance">600<' in home.text
    text = re.sub(r"<[^>]+>", "", home.text)
    assert "600 points expire on" in text
    assert re.search(r"To reach Silver:\s*2,400 more points\s+or\s+10 more nights", text)
    ledger = portal.get("/portal/points")
    assert "How these points were counted" in ledger.text and "+600" in ledger.text


def test_the_dashboard_in_chinese(portal, seed):
    _, card_no = member(seed)
    sign_in(portal, card_no)
    portal.set_cookie("_LOCALE_", "zh_CN")
    home = portal.get("/portal")
    assert '<html lang="zh-CN"' in home.text and "积分" in home.text and "会员中心" in home.text


def test_reserve_a_reward_then_cancel_it(portal, testapp, seed):
    seed.db.add(Reward(code="TEA", name="Afternoon tea", category="item", cost_cents=100, points_price=150,
                       stock=5, active=True))
    seed.db.add(Reward(code="SUITE", name="Suite night", category="item", cost_cents=100, points_price=5000,
                       stock=None, active=True))
    seed.db.commit()
    _, card_no = member(seed)
    post_bill(testapp, seed, card_no, amount="200.00")
    sign_in(portal, card_no)
    rewards = portal.get("/portal/rewards")
    assert "4,800 more points needed." in re.sub(r"<[^>]+>", "", rewards.text)
    form = rewards.forms[[key for key, f in rewards.forms.items() if f.action.endswith("/portal/rewards")
                          and f.get("reward").value == "TEA"][0]]
    form["outlet"] = "SPA"
    done = form.submit(status=303).follow()
    number = re.search(r"show number (R\d+)", done.text).group(1)
    seed.db.rollback()
    redemption = seed.db.scalars(select(Redemption)).one()
    assert (redemption.status, redemption.points) == ("awaiting_pickup", 150)
    assert 'id="balance">50<' in portal.get("/portal").text
    refused = portal.post("/portal/rewards", {"reward": "SUITE", "outlet": "SPA", "csrf_token": csrf_of(rewards)},
                          status=422)
    assert "not have enough points" in refused.text
    seed.db.execute(update(Reward).where(Reward.code == "TEA").values(stock=0))
    seed.db.commit()
    gone = portal.post("/portal/rewards", {"reward": "TEA", "outlet": "SPA", "request_key": "again",
                                           "csrf_token": csrf_of(rewards)}, status=422)
    assert "This reward is out of stock." in gone.text
    cancelled = portal.post(f"/portal/reservations/{number}/cancel", {"csrf_token": csrf_of(rewards)},
                            status=303).follow()
    assert f"Reservation {number} is cancelled" in cancelled.text
    assert 'id="balance">200<' in portal.get("/portal").text


def test_a_member_cannot_cancel_anothers_reservation(portal, testapp, seed):
    from lps_core.outlets.models import Outlet
    from lps_core.rewards.services import RedeemRequest, redeem

    seed.db.add(Reward(code="TEA", name="Afternoon tea", category="item", cost_cents=100, points_price=10,
                       active=True))
    seed.db.commit()
    _, other_card = member(seed, name="Other", phone="+8613900000002", email=None)
    post_bill(testapp, seed, other_card, amount="100.00")
    outlet = seed.db.scalars(select(Outlet).where(Outlet.code == "REST")).one()
    made = redeem(seed.db, outlet, RedeemRequest(other_card, "TEA", 1, "X1", False), 100)
    seed.db.commit()
    _, card_no = member(seed)
    sign_in(portal, card_no)
    page = portal.get("/portal/rewards")
    portal.post(f"/portal/reservations/{made.number}/cancel", {"csrf_token": csrf_of(page)}, status=303)
    seed.db.rollback()
    assert seed.db.scalar(select(Redemption.status)) == "awaiting_pickup"


# --- Appeals, profile, inbox ---------------------------------------------------------------------------

def test_file_an_appeal_and_see_its_answer(portal, seed):
    from lps_core.appeals.models import Appeal
    from lps_core.appeals.services import reject_appeal
    from lps_core.audit.services import SYSTEM

    _, card_no = member(seed)
    sign_in(portal, card_no)
    page = portal.get("/portal/appeals")
    refused = portal.post("/portal/appeals", {"outlet": "REST", "bill_no": "", "bill_date": "yesterday",
                                              "amount": "abc", "csrf_token": csrf_of(page)}, status=400)
    assert len(re.findall(r'class="field-error">', refused.text)) == 3
    not_a_photo = portal.post("/portal/appeals", {"outlet": "REST", "bill_no": "R-1", "bill_date": "2026-11-20",
                                                  "amount": "268.00", "csrf_token": csrf_of(page)},
                              upload_files=[("receipt", "receipt.jpg", b"not a photo")], status=400)
    assert "must be a JPEG, PNG, WebP or HEIC photo" in not_a_photo.text
    filed = portal.post("/portal/appeals", {"outlet": "REST", "bill_no": "R-1", "bill_date": "2026-11-20",
                                            "amount": "268.00", "note": "not on my statement",
                                            "csrf_token": csrf_of(page)},
                        upload_files=[("receipt", "receipt.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64)],
                        status=303).follow()
    assert "Waiting for an answer" in filed.text
    seed.db.rollback()
    appeal = seed.db.scalars(select(Appeal)).one()
    assert (appeal.bill_no, appeal.amount_cents, appeal.opened_by, appeal.receipt_type) == \
        ("R-1", 26800, "member", "image/png")
    reject_appeal(seed.db, appeal.id, "no such bill at the restaurant that day", actor=SYSTEM)
    seed.db.commit()
    assert "Not approved: no such bill at the restaurant that day" in re.sub(r"<[^>]+>", "", portal.get("/portal/appeals").text)


def test_profile_preferences_consent_and_password(portal, seed):
    from lps_core.messages.consent import consents_of
    from lps_core.members.services import preferences_of

    member_id, card_no = member(seed)
    sign_in(portal, card_no)
    page = portal.get("/portal/profile")
    portal.post("/portal/profile/preferences", {"room": "high floor", "pillow": "buckwheat", "dietary": "",
                                                "csrf_token": csrf_of(page)}, status=303)
    long = portal.post("/portal/profile/preferences", {"room": "x" * 501, "csrf_token": csrf_of(page)}, status=400)
    assert 'class="field-error"' in long.text
    portal.post("/portal/profile/consent", {"email": "yes", "csrf_token": csrf_of(page)}, status=303)
    seed.db.rollback()
    assert preferences_of(seed.db, member_id) == {"room": "high floor", "pillow": "buckwheat"}
    assert consents_of(seed.db, member_id) == {"email": True, "sms": False, "inbox": False}
    wrong = portal.post("/portal/profile/password", {"current": "nope", "password": "changed-pass-1",
                                                    "confirm": "changed-pass-1", "csrf_token": csrf_of(page)},
                        status=400)
    assert "is not your current password" in wrong.text
    other = TestApp(portal.app, extra_environ={"REMOTE_ADDR": "198.51.100.10"})
    sign_in(other, card_no)
    changed = portal.post("/portal/profile/password", {"current": PASSWORD, "password": "changed-pass-1",
                                                      "confirm": "changed-pass-1", "csrf_token": csrf_of(page)},
                          status=303).follow()
    assert "Your password has been changed." in changed.text
    assert "/portal/sign-in" in other.get("/portal", status=303).location


def test_report_a_card_lost_freezes_it(portal, seed):
    _, card_no = member(seed)
    sign_in(portal, card_no)
    page = portal.get("/portal/profile")
    done = portal.post("/portal/profile/lost", {"card_no": card_no, "csrf_token": csrf_of(page)},
                       status=303).follow()
    assert "is frozen" in done.text
    seed.db.rollback()
    assert seed.db.scalar(select(Card.status).where(Card.card_no == card_no)) == "frozen"
    _, other_card = member(seed, name="Other", phone="+8613900000002", email=None)
    portal.post("/portal/profile/lost", {"card_no": other_card, "csrf_token": csrf_of(page)}, status=303)
    seed.db.rollback()
    assert seed.db.scalar(select(Card.status).where(Card.card_no == other_card)) == "active"


def test_the_inbox_shows_the_members_portal_messages(portal, seed):
    from lps_core.messages.outbox import enqueue

    member_id, card_no = member(seed)
    from lps_core.messages.models import SENT
    from lps_core.timeutil import utcnow

    (queued,) = enqueue(seed.db, "appeal_resolved", member_id=member_id, channels=["inbox"], language="en",
                        context={"appeal_no": "7", "outcome": "approved", "answer": "268 points added"})
    seed.db.commit()
    sign_in(portal, card_no)
    assert '<span class="badge">' not in portal.get("/portal").text, "a message not yet delivered is not shown"
    seed.db.execute(update(OutboxMessage).where(OutboxMessage.id == queued).values(status=SENT, sent_at=utcnow()))
    seed.db.commit()
    assert '<span class="badge">1</span>' in portal.get("/portal").text
    inbox = portal.get("/portal/inbox")
    assert 'class="new"' in inbox.text and "268 points added" in inbox.text
    assert 'class="new"' not in portal.get("/portal/inbox").text
    assert '<span class="badge">' not in portal.get("/portal").text


# --- Settings ---------------------------------------------------------------------------------------

def test_the_portal_secret_is_its_own_or_derived_from_the_staff_secret(monkeypatch):
    from lps_core.errors import ConfigurationError
    from lps_core.portal.security import PortalSettings

    monkeypatch.delenv("LPS_PORTAL_SECRET", raising=False)
    derived = PortalSettings.from_settings({}, "staff-secret").secret
    assert derived and derived != "staff-secret" and derived == PortalSettings.from_settings({}, "staff-secret").secret
    assert PortalSettings.from_settings({"lps.portal.secret": "own"}, "staff-secret").secret == "own"
    monkeypatch.setenv("LPS_PORTAL_SECRET", "from-env")
    assert PortalSettings.from_settings({"lps.portal.secret": "own"}).secret == "from-env"
    monkeypatch.delenv("LPS_PORTAL_SECRET")
    assert PortalSettings.from_settings({"lps.session.secure": "true"}, "s").secure is True
    with pytest.raises(ConfigurationError, match="lps.portal.secret"):
        PortalSettings.from_settings({"lps.portal.secure": "true"})
    with pytest.raises(ConfigurationError, match="lps.portal.idle_timeout"):
        PortalSettings.from_settings({"lps.portal.idle_timeout": "soon"}, "s")


def test_the_members_writes_are_audited_as_the_portal_acting_for_them(portal, testapp, seed):
    from lps_core.testing import audited

    seed.db.add(Reward(code="TEA", name="Afternoon tea", category="item", cost_cents=100, points_price=10,
                       active=True))
    seed.db.commit()
    member_id, card_no = member(seed)
    post_bill(testapp, seed, card_no, amount="100.00")
    sign_in(portal, card_no)
    page = portal.get("/portal/profile")
    portal.post("/portal/profile/preferences", {"room": "quiet", "csrf_token": csrf_of(page)}, status=303)
    portal.post("/portal/rewards", {"reward": "TEA", "outlet": "REST", "request_key": "k1",
                                    "csrf_token": csrf_of(page)}, status=303)
    portal.post("/portal/profile/lost", {"card_no": card_no, "csrf_token": csrf_of(page)}, status=303)
    (preferences,) = audited(seed.db, "member.preferences")
    assert (preferences.actor_name, preferences.after) == (f"portal, member {member_id}", {"room": "quiet"})
    (reserved,) = audited(seed.db, "redemption.create")
    assert reserved.after["status"] == "awaiting_pickup"
    (lost,) = audited(seed.db, "card.status")
    assert (lost.before, lost.after["status"]) == ({"status": "active"}, "frozen")


def test_an_idle_session_ends_with_a_message(portal, seed):
    from lps_core.portal.models import PortalSession
    from lps_core.timeutil import utcnow

    _, card_no = member(seed)
    sign_in(portal, card_no)
    seed.db.execute(update(PortalSession).values(last_seen_at=utcnow() - timedelta(hours=1)))
    seed.db.commit()
    page = portal.get("/portal", status=303).follow()
    assert "You were signed out after a while without activity." in page.text
    assert "lps_member" not in portal.cookies
    assert "signed out after a while" not in portal.get("/portal/sign-in").text


def test_the_staff_csrf_token_is_no_good_on_the_portal(portal, testapp, seed):
    staff_token = sign_in_as(testapp, seed, "portal-admin", "admin-pass-2026", ["administrator"], ["all"])
    portal.get("/portal/sign-in")
    for name in ("lps_session", "lps_staff"):
        portal.set_cookie(name, testapp.cookies[name])
    refused = portal.post("/portal/sign-in", {"identifier": "x", "password": "y", "csrf_token": staff_token},
                          status=400)
    assert "This form has expired" in refused.text


def test_a_staff_cookie_in_the_same_browser_is_nobody_on_the_portal(portal, testapp, seed):
    """A browser signed in on the staff screens sends its staff cookie to /portal too: what the
    member does there is the member's, never recorded as the operator's."""
    from lps_core.audit.models import AuditEntry

    sign_in_as(testapp, seed, "portal-admin", "admin-pass-2026", ["administrator"], ["all"])
    member_id, card_no = member(seed)
    sign_in(portal, card_no)
    for name in ("lps_session", "lps_staff"):
        portal.set_cookie(name, testapp.cookies[name])
    page = portal.get("/portal/profile")
    portal.post("/portal/profile/preferences", {"room": "quiet", "csrf_token": csrf_of(page)}, status=303)
    seed.db.rollback()
    by_operator = seed.db.scalars(select(AuditEntry.action).where(AuditEntry.actor_name == "portal-admin",
                                                                  AuditEntry.action.like("portal%"))).all()
    assert by_operator == []
    assert seed.db.scalar(select(AuditEntry.actor_name).where(AuditEntry.action == "member.preferences")) \
        == f"portal, member {member_id}"


def test_the_members_messages_follow_the_language_they_use_the_portal_in(portal, seed):
    """An application made in Chinese is approved in Chinese; signing in in English turns the
    member's later messages to English."""
    portal.set_cookie("_LOCALE_", "zh_CN")
    page = portal.get("/portal/register")
    portal.post("/portal/register", {"name": "孙丽", "phone": "+8613900000031", "password": PASSWORD,
                                     "confirm": PASSWORD, "csrf_token": csrf_of(page)})
    seed.db.rollback()
    member_id = seed.db.scalar(select(Member.id).where(Member.name == "孙丽"))
    assert seed.db.scalar(select(Member.language).where(Member.id == member_id)) == "zh_CN"
    card_no = approve_member(seed.db, member_id)
    seed.db.commit()
    approved = seed.db.scalars(select(OutboxMessage.language).where(OutboxMessage.member_id == member_id)).all()
    assert approved and set(approved) == {"zh_CN"}

    portal.set_cookie("_LOCALE_", "en")
    sign_in(portal, card_no)
    seed.db.rollback()
    assert seed.db.scalar(select(Member.language).where(Member.id == member_id)) == "en"
