"""Marketing in a real browser: staff save a segment (its live count on the page), create a campaign
with a coupon to it and schedule it now; `lps jobs campaigns` (its function, on the same database)
sends it, and `lps worker` delivers the e-mail with the coupon's code to a real loopback SMTP
server (aiosmtpd; conftest.py's mailing_server and smtp)."""
from datetime import date

import pytest

from lps_core.demo import DEMO_ADMIN

TIMEOUT_MS = 30_000
EMAIL = "campaign.guest@example.test"


@pytest.fixture(scope="module")
def marketing_app(mailing_server):
    """(base URL, the app, sessions, the member's id): LPS with the demo's data, a coupon type and a
    member with an e-mail address who agreed to e-mail, its e-mail delivered to `smtp` (conftest.py)."""
    from lps_core.coupons.services import TypeSpec, save_type
    from lps_core.db import get_session_factory
    from lps_core.members.services import Enrolment, approve_member, enrol_member
    from lps_core.messages.consent import set_consent

    def prepare(db, app, demo):
        save_type(db, TypeSpec(code="AUTUMN50", name="50 off", kind="amount", value_cents=5000, valid_days=30))
        member_id = enrol_member(db, Enrolment(name="Campaign Guest", channel="web", phone="+8613912340001",
                                               email=EMAIL, birthday=date(1985, 12, 24)), force_duplicate_phone=True)
        approve_member(db, member_id)
        set_consent(db, member_id, "email", True, source="staff")
        return member_id

    base_url, app, engine, member_id = mailing_server(prepare, **{"lps.messages.quiet_hours": ""})
    return base_url, app, get_session_factory(engine), member_id


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
    saved = select(Segment.definition).where(Segment.name == "December birthdays by e-mail")  # the demo has its own
    expected = run_in_transaction(sessions, lambda db: count(
        db, SegmentDefinition.model_validate(db.scalar(saved)), utcnow(), tz))
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
    mail = smtp.wait_for(EMAIL, before)
    assert mail["Subject"] == "A treat for you, Campaign Guest"
    assert f"enjoy 50.00 off with {code}." in mail.get_body(("plain",)).get_content()

    page.reload()
    expect(page.locator("#status")).to_have_text("sent")
    expect(page.locator("#recipients")).to_have_text(str(expected))
