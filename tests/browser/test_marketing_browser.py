"""Marketing in a real browser: staff save a segment (its live count on the page), create a campaign
with a coupon to it and schedule it now; `lps jobs campaigns` (its function, on the same database)
sends it, and `lps worker` delivers the e-mail with the coupon's code to a real loopback SMTP
server (aiosmtpd)."""
import threading
import time
from datetime import date

import pytest

from lps_core.demo import DEMO_ADMIN
from lps_core.testing import PII_SETTINGS, SmtpInbox

TIMEOUT_MS = 30_000
EMAIL = "campaign.guest@example.test"


@pytest.fixture(scope="module")
def smtp():
    import asyncio

    from aiosmtpd.smtp import SMTP

    inbox = SmtpInbox()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = asyncio.run_coroutine_threadsafe(
        loop.create_server(lambda: SMTP(inbox, hostname="mail.example.test"), "127.0.0.1", 0), loop).result(5)
    inbox.port = server.sockets[0].getsockname()[1]
    yield inbox

    async def shut_down():
        server.close()
        await server.wait_closed()

    asyncio.run_coroutine_threadsafe(shut_down(), loop).result(5)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)


class Sessions:
    def __init__(self, engine):
        from sqlalchemy.orm import Session

        self.factory = lambda: Session(engine, expire_on_commit=False)

    def __call__(self):
        return self.factory()


@pytest.fixture(scope="module")
def marketing_app(tmp_path_factory, smtp):
    """(base URL, the app, sessions): LPS with the demo's data, the e-mail channel on, a coupon type,
    a member with an e-mail address who agreed to e-mail, and a worker delivering the outbox."""
    from waitress import create_server

    from lps_core import main
    from lps_core.components import IPlugins, ISettings
    from lps_core.coupons.services import TypeSpec, save_type
    from lps_core.db import get_engine, get_session_factory, run_in_transaction
    from lps_core.db.migrate import upgrade
    from lps_core.demo import load_demo
    from lps_core.members.services import Enrolment, approve_member, enrol_member
    from lps_core.messages.consent import set_consent
    from lps_core.messages.worker import Worker
    from lps_core.plugins.switches import set_switch

    database = tmp_path_factory.mktemp("marketing-browser") / "lps.sqlite"
    settings = {"sqlalchemy.url": f"sqlite:///{database}", **PII_SETTINGS,
                "lps.session.secret": "browser-tests-session-secret", "lps.portal.secret": "browser-portal-secret",
                "lps.email.host": "127.0.0.1", "lps.email.port": str(smtp.port),
                "lps.email.sender": "loyalty@hotel.example.test", "lps.messages.poll_seconds": "0.5",
                "lps.messages.quiet_hours": "", "pyramid.default_locale_name": "en"}
    engine = get_engine(settings)
    upgrade(engine)
    app = main({}, **settings)
    plugins = app.registry.getUtility(IPlugins)
    sessions = get_session_factory(engine)

    def prepare(db):
        load_demo(db, plugins, app.registry.settings)
        set_switch(db, plugins, kind="channel", name="email", scope="programme", scope_id=0, enabled=True)
        save_type(db, TypeSpec(code="AUTUMN50", name="50 off", kind="amount", value_cents=5000, valid_days=30))
        member_id = enrol_member(db, Enrolment(name="Campaign Guest", channel="web", phone="+8613912340001",
                                               email=EMAIL, birthday=date(1985, 12, 24)), force_duplicate_phone=True)
        approve_member(db, member_id)
        set_consent(db, member_id, "email", True, source="staff")
        return member_id

    member_id = run_in_transaction(sessions, prepare)
    worker = Worker(Sessions(engine), plugins, app.registry.getUtility(ISettings), name="browser-tests")
    worker_thread = threading.Thread(target=worker.run, name="lps-worker", daemon=True)
    worker_thread.start()
    server = create_server(app, host="127.0.0.1", port=0, threads=4, clear_untrusted_proxy_headers=True)
    thread = threading.Thread(target=server.run, name="lps-marketing-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}", app, sessions, member_id
    worker.stopping.set()
    worker_thread.join(10)
    server.close()
    engine.dispose()


@pytest.fixture
def page(browser, marketing_app):
    context = browser.new_context(base_url=marketing_app[0], viewport={"width": 1366, "height": 768})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


class JobEnvironment:
    """What `lps jobs campaigns` gets from the CLI: the app's settings, plugins and sessions."""

    def __init__(self, app, sessions):
        from lps_core.components import IPlugins

        self.settings = app.registry.settings
        self.plugins = app.registry.getUtility(IPlugins)
        self.sessions = sessions

    def transaction(self, work):
        from lps_core.db import run_in_transaction

        return run_in_transaction(self.sessions, work)


def test_a_segment_and_a_campaign_with_a_coupon_reach_the_mailbox(page, marketing_app, smtp, sign_in, expect):
    from sqlalchemy import select

    from lps_core.coupons.models import Coupon
    from lps_core.db import run_in_transaction
    from lps_core.marketing.campaigns import send_due
    from lps_core.marketing.models import Segment
    from lps_core.marketing.schemas import SegmentDefinition
    from lps_core.marketing.segments import count
    from lps_core.settings import settings_of
    from lps_core.timeutil import utcnow

    _, app, sessions, member_id = marketing_app
    sign_in(page, *DEMO_ADMIN)
    page.goto("/marketing")
    page.click("#new-segment")
    page.fill("#name", "December birthdays by e-mail")
    page.select_option("#birthday_months", ["12"])
    page.select_option("#consent", ["email"])
    page.click("#save-segment")
    page.wait_for_url("**/marketing/segments/*")
    tz = settings_of(app.registry.settings).timezone
    expected = run_in_transaction(sessions, lambda db: count(
        db, SegmentDefinition.model_validate(db.scalar(select(Segment.definition))), utcnow(), tz))
    assert expected >= 1
    expect(page.locator("#count")).to_have_text(str(expected))
    expect(page.locator("#preview")).to_contain_text("Campaign Guest")

    page.click("#campaign-to-segment")
    page.fill("#name", "Winter treat")
    page.fill("#subject", "A treat for you, {member_name}")
    page.fill("#body", "Dear {member_name}, enjoy 50.00 off with {coupon_code}.")
    page.select_option("#channels", ["email"])
    page.fill("#control_percent", "0")
    page.fill("#coupon_type_code", "AUTUMN50")
    page.click("#save-campaign")
    page.wait_for_url("**/marketing/campaigns/*")
    expect(page.locator("#status")).to_have_text("draft")
    page.click("#schedule")  # no time: now
    expect(page.locator("#status")).to_have_text("scheduled")

    before = len(smtp.messages())
    report = send_due(JobEnvironment(app, sessions))
    assert report.campaigns and report.campaigns[0][2] == expected
    code = run_in_transaction(sessions, lambda db: db.scalar(select(Coupon.code).where(
        Coupon.member_id == member_id, Coupon.source == "campaign")))
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    mail = None
    while mail is None and time.monotonic() < deadline:
        mail = next((m for m in smtp.messages()[before:] if EMAIL in m["To"]), None)
        time.sleep(0.25)
    assert mail is not None, "the campaign's e-mail did not arrive"
    assert mail["Subject"] == "A treat for you, Campaign Guest"
    assert f"enjoy 50.00 off with {code}." in mail.get_body(("plain",)).get_content()

    page.reload()
    expect(page.locator("#status")).to_have_text("sent")
    expect(page.locator("#recipients")).to_have_text(str(expected))
