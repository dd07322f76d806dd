"""The members' portal in a real browser, at phone size (390x844) and on a desktop, in English and
in Chinese: apply for membership, approval by staff, sign in with a one-time code read from a real
loopback SMTP server (aiosmtpd) after `lps worker` delivered it, see the points of a bill, reserve a
reward, appeal a missing bill and see it resolved.

The app runs here with its own database (the demo's data), the e-mail channel switched on for the
programme and pointed at the loopback server, and a worker delivering the outbox in a thread
(conftest.py's mailing_server and smtp)."""
import json
import re
import urllib.request
from datetime import date
from itertools import count

import pytest

TIMEOUT_MS = 30_000  # as the harness (conftest.py): the machines are small and may be busy

REWARD = "PORTAL-TEA"  # 100 points, so one bill's points are enough
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 768}}
LANGUAGES = {"en": "en-US", "zh_CN": "zh-CN"}
PASSWORD = "portal-browser-2026"
CODE = r"\b(\d{6})\b"  # a one-time sign-in code
_phones = count(1)


@pytest.fixture(scope="module")
def portal_app(mailing_server):
    """(base URL, the app, its engine, the demo API key): LPS with the demo's data and a reward that one
    bill's points buy, its e-mail delivered to `smtp` (conftest.py)."""
    from lps_core.rewards.models import Reward

    def prepare(db, app, demo):
        db.add(Reward(code=REWARD, name="Afternoon tea", category="item", cost_cents=100, points_price=100,
                      active=True))
        return demo[-1]

    return mailing_server(prepare, **{"lps.api.key_cache_seconds": "0", "lps.rules.cache_seconds": "0"})


@pytest.fixture(params=[(size, language) for size in SIZES for language in LANGUAGES],
                ids=lambda param: f"{param[0]}-{param[1]}")
def page(request, browser, portal_app):
    """A fresh browser at the parameter's size and language, on the portal's server."""
    size, language = request.param
    context = browser.new_context(base_url=portal_app[0], viewport=SIZES[size], locale=LANGUAGES[language],
                                  is_mobile=size == "phone", has_touch=size == "phone")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.language = language
    yield page
    context.close()


def _post_bill(base_url, key, card_no, bill_no, amount) -> dict:
    request = urllib.request.Request(f"{base_url}/api/v1/transactions", method="POST",
                                     data=json.dumps({"card_no": card_no, "bill_no": bill_no,
                                                      "amount": amount}).encode(),
                                     headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def test_register_approve_sign_in_with_a_code_earn_reserve_and_appeal(page, portal_app, smtp, expect):
    from sqlalchemy import select

    from lps_core.appeals.models import Appeal
    from lps_core.appeals.services import Approval, approve_appeal
    from lps_core.audit.services import SYSTEM
    from lps_core.cards.models import Card
    from lps_core.components import IPlugins, IProgramme
    from lps_core.members.models import Member
    from lps_core.members.services import approve_member

    base_url, app, engine, key = portal_app
    serial = next(_phones)
    phone, email = f"1390000{serial:04d}", f"guest{serial}.{page.language.lower()}@example.test"
    page.goto(f"/locale/{page.language}?next=/portal/register")

    # Apply: the application waits for approval.
    page.fill("#name", f"Guest {serial}")
    page.fill("#phone", phone)
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    page.click("form.form button[type=submit]")
    expect(page.locator("a.button")).to_be_visible()

    # Staff approve it (the approval queue's service), and the till posts a bill to the new card.
    member_id = _in_db(engine, lambda db: db.scalar(select(Member.id).where(Member.email == email)))
    card_no = _in_db(engine, lambda db: approve_member(db, member_id))
    earned = _post_bill(base_url, key, card_no, f"PB-{serial}", "400.00")
    assert earned["points"] > 100

    # Sign in with a one-time code sent by e-mail: the worker delivers it to the SMTP server.
    before = len(smtp.messages())
    page.goto("/portal/code/sign_in")
    page.fill("#identifier", phone)
    page.check("input[name=channel][value=email]")
    page.click("form.form button[type=submit]")
    expect(page.locator("#code")).to_be_visible()
    mail = smtp.wait_for(email, before, containing=CODE)
    page.fill("#code", re.search(CODE, mail.get_body(("plain",)).get_content()).group(1))
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/portal")

    # The dashboard shows the bill's points.
    expect(page.locator("#balance")).to_have_text(re.compile(r"^\s*" + f"{earned['points_balance']}" + r"\s*$"))
    if page.language == "zh_CN":
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(page.locator("nav.tabs")).to_contain_text("积分兑换")

    # Reserve a reward for pick-up: it gets a number.
    page.click(f"nav.tabs a[href$='/portal/rewards']")
    reward = page.locator(f"#reward-{REWARD}")
    reward.locator("select[name=outlet]").select_option("SPA")
    reward.locator("button[type=submit]").click()
    expect(page.locator("p.flash[role=status]")).to_contain_text(re.compile(r"R\d{8}"))
    expect(page.locator("#my-reservations")).to_contain_text(re.compile(r"R\d{8}"))

    # Appeal a bill the till never sent, then staff approve it.
    page.click("nav.tabs a[href$='/portal/appeals']")
    page.select_option("#outlet", "REST")
    page.fill("#bill_no", f"MISSING-{serial}")
    page.fill("#bill_date", date.today().isoformat())
    page.fill("#amount", "200.00")
    page.click("#file-appeal button[type=submit]")
    expect(page.locator("#my-appeals li.appeal")).to_have_count(1)
    _in_db(engine, lambda db: approve_appeal(
        db, app.registry.getUtility(IPlugins), app.registry.getUtility(IProgramme),
        db.scalar(select(Appeal.id).where(Appeal.member_id == member_id)), Approval(), actor=SYSTEM))
    page.reload()
    expect(page.locator("#my-appeals .status")).to_contain_text(re.compile(r"\d"))
    page.click("nav.tabs a[href$='/portal/inbox']")
    expect(page.locator("section.message").first).to_be_visible()
    assert _in_db(engine, lambda db: db.scalar(select(Card.status).where(Card.card_no == card_no))) == "active"


def _in_db(engine, work):
    """Run `work(db)` in a transaction of its own, committed, and the session closed: SQLite's one
    write lock is never held while the browser waits for the server."""
    from sqlalchemy.orm import Session

    with Session(engine, expire_on_commit=False) as db, db.begin():
        return work(db)


def test_a_member_signs_in_with_a_password_at_each_size(page, portal_app, expect):
    from lps_core.demo import DEMO_MEMBER

    phone, password = DEMO_MEMBER
    page.goto(f"/locale/{page.language}?next=/portal")
    page.fill("#identifier", phone)
    page.fill("#password", "not-the-password-1")
    page.click("form.form button[type=submit]")
    expect(page.locator("form.form [role=alert]")).to_be_visible()
    page.fill("#password", password)
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/portal")
    expect(page.locator("#balance")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], "the portal must not scroll sideways"

