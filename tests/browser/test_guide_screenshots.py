"""The staff guides' pictures (docs/staff-guide.md, docs/zh_CN/staff-guide.md, docs/images/*.png),
taken from the real screens.

These walks through the screens that the guides show run with the other browser tests, so the
guides cannot quietly describe screens that no longer work: each step asserts what its picture
shows. They run against their own LPS server (this module's `live_server`), loaded with the demo's
data and a year of the demo hotel's members and bills, so that reports, analytics and marketing
have something to show; its database is on PostgreSQL when LPS_TEST_DATABASE_URL names a server,
else SQLite. Pictures go to tests/browser/screenshots/guide/; with
LPS_UPDATE_GUIDE_IMAGES=1 they replace those in docs/images (then commit them). optipng, where it is
installed, makes them smaller; Chinese screens need a Chinese font (fonts-wqy-microhei).
"""
import os
import random
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from lps_core.demo import DEMO_ADMIN
from lps_core.testing import TEST_SETTINGS

UPDATE = os.environ.get("LPS_UPDATE_GUIDE_IMAGES") == "1"
DOCS = Path(__file__).parents[2] / "docs"
GUIDE_IMAGES = DOCS / "images"
TRIAL_IMAGES = Path(__file__).parent / "screenshots" / "guide"
GUIDES = {"en": DOCS / "staff-guide.md", "zh": DOCS / "zh_CN" / "staff-guide.md"}
# What each walk takes, in order; the English guide shows both lists, the Chinese guide the
# chapter's pictures of the Chinese screens (the same names ending in -zh).
DESK_PICTURES = ["sign-in", "member-search", "enrol", "approvals", "cashier", "cashier-settled", "settlement",
                 "rewards", "appeals-queue", "appeal", "language-zh"]
CHAPTER_PICTURES = ["dashboard-figures", "report-sales", "report-print", "analytics-cards", "analytics-new-members",
                    "analytics-demographics", "analytics-referrals", "analytics-churn", "analytics-rfm",
                    "analytics-lifecycle", "segment", "coupon-types", "campaign-new", "cashier-coupon",
                    "campaign-results"]
CHAPTER_VIEWPORT = {"width": 1280, "height": 800}
PICTURE_HEIGHT = 720  # a picture of a long page shows its top: filters, totals, chart
TIMEOUT_MS = 30_000  # as the other browser tests: the machines are small and may be busy
MONEY = re.compile(r"-?[\d,]+\.\d\d")

TAKEN = []


def picture(page, name, selector=None, *, start=None, height=PICTURE_HEIGHT):
    """The visible part of the page, or the element `selector` (at most `height` pixels of it, from
    the top of the element `start` when given), as the guide's picture `name`.png."""
    TAKEN.append(name)
    folder = GUIDE_IMAGES if UPDATE else TRIAL_IMAGES
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    if selector is None:
        page.screenshot(path=str(path))
    else:
        box = page.locator(selector).first.evaluate(
            "e => { const r = e.getBoundingClientRect();"
            " return {x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height}; }")
        if start is not None:
            top = page.locator(start).first.evaluate("e => e.getBoundingClientRect().top + scrollY")
            box["height"], box["y"] = box["height"] - (top - box["y"]), top
        box["height"] = min(box["height"], height)
        page.screenshot(path=str(path), full_page=True, clip=box)
    if UPDATE and shutil.which("optipng"):
        subprocess.run(["optipng", "-quiet", "-o2", "-strip", "all", str(path)], check=True)


def test_guide_pictures(page, sign_in, swipe, expect):
    TAKEN.clear()
    page.goto("/login")
    page.fill("input[name=username]", "front-desk")
    picture(page, "sign-in")
    sign_in(page, *DEMO_ADMIN)

    # Find a member.
    page.click("header nav a:text-is('Members')")
    page.fill("#name", "Li Wei")
    page.click("#search")
    result = page.locator("table.results tbody tr", has_text="Li Wei")
    card_no = result.locator("td").nth(1).inner_text().strip()
    picture(page, "member-search")

    # Enrol at the desk, then approve in the queue.
    page.click("header nav a:text-is('Enrol')")
    page.select_option("#outlet", "ROOMS")
    page.fill("#name", "Zhao Lei")
    page.fill("#phone", "+8613700000009")
    page.fill("#email", "zhao.lei@example.com")
    page.fill("#birthday", "1992-05-20")
    page.focus("#email")
    picture(page, "enrol")
    page.click("#enrol")
    expect(page.locator(".flash")).to_contain_text("waits for approval")
    page.click("header nav a:text-is('Approvals')")
    pending = page.locator("table.approvals tbody tr", has_text="Zhao Lei")
    picture(page, "approvals")
    pending.locator("button[id^=approve-]").click()
    expect(page.locator(".flash")).to_contain_text("approved")

    # The cashier's screen: swipe, the quick bill paid by bank card, settled in place; then a part refund.
    page.click("header nav a:text-is('Cashier')")
    page.click("a:text-is('REST · Jade Garden Restaurant')")
    swipe(page, card_no)
    expect(page.locator("#card h2")).to_have_text("Li Wei")
    expect(page.locator("#amount")).to_be_focused()
    page.keyboard.type("680")
    page.keyboard.press("F5")  # the rest by bank card
    page.fill("#tender-0-reference", "POS 123456")
    picture(page, "cashier")
    page.keyboard.press("F9")
    expect(page.locator("#settled .flash")).to_contain_text("settled")
    picture(page, "cashier-settled")
    page.click("#open-settlement")
    page.check("#scope-amount")
    page.fill("#refund_amount", "50.00")
    page.fill("#refund_reason", "Wine returned")
    page.click("#refund-submit")
    expect(page.locator("#refunds")).to_contain_text("Wine returned")
    picture(page, "settlement")

    # Rewards at the desk, to be picked up later.
    page.click("header nav a:text-is('Rewards')")
    page.click("a:text-is('REST · Jade Garden Restaurant')")
    swipe(page, card_no)
    drink = page.locator("#redeem-WELCOME")
    drink.locator("select[name=collection]").select_option("later")
    drink.locator("button").click()
    expect(page.locator("#redemptions")).to_contain_text("Welcome drink")
    picture(page, "rewards")

    # A points appeal, opened from the member's page and answered from the queue.
    page.click("header nav a:text-is('Members')")
    page.fill("#name", "Li Wei")
    page.click("#search")
    page.locator("table.results tbody tr", has_text="Li Wei").locator("a").first.click()
    page.click("#open-appeal")
    page.select_option("#outlet", "REST")
    page.fill("#bill_no", "JG-0107")
    page.fill("#bill_date", (date.today() - timedelta(days=1)).isoformat())
    page.fill("#amount", "388.00")
    page.fill("#note", "Paid in cash, forgot the card")
    page.click("#file-appeal")
    expect(page.locator(".flash")).to_contain_text("filed")
    page.click("header nav a:text-is('Appeals')")
    expect(page.locator("#appeals tbody")).to_contain_text("JG-0107")
    picture(page, "appeals-queue")
    page.locator("#appeals tbody tr", has_text="JG-0107").locator("a").first.click()
    page.fill("#occurred_at", "19:30")
    picture(page, "appeal")
    page.click("#approve")
    expect(page.locator(".flash")).to_contain_text("approved")
    expect(page.locator("#answer")).to_contain_text("posted the bill")

    # The same cashier's screen in Chinese.
    page.goto(f"/cashier?outlet=REST&card_no={card_no}")
    page.click("header .languages a[hreflang=zh-CN]")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("#amount")).to_be_focused()
    page.keyboard.type("388")
    page.keyboard.press("F4")  # the rest in cash
    expect(page.locator("#settle")).to_be_focused()
    picture(page, "language-zh")
    assert TAKEN == DESK_PICTURES

# --- The demo hotel's year: the server the walks run against ------------------------------------

# Members enrolled over the last year: name, phone (its area gives the region), gender, birth year.
GUESTS = [
    ("Wang Fang", "+8613761230001", "female", 1986), ("Liu Yang", "+8613800001002", "male", 1979),
    ("Chen Hao", "+8613922221003", "male", 1992), ("Zhao Li", "+8613912341004", "female", 1968),
    ("Huang Min", "+8613512341005", "female", 1995), ("Zhou Jie", "+8613761231006", "male", 1983),
    ("Wu Xia", "+8613800001007", "female", 1975), ("Xu Lei", "+8613922221008", "male", 2001),
    ("Sun Yan", "+8613912341009", "female", 1989), ("Ma Jun", "+8613512341010", "male", 1962),
    ("Zhu Ting", "+8613761231011", "female", 1998), ("Hu Bo", "+8613800001012", "male", 1971),
    ("Guo Jing", "+8613922221013", "female", 1984), ("He Qiang", "+8613912341014", "male", 1957),
    ("Lin Na", "+8613512341015", "female", 1993), ("Gao Peng", "+8613761231016", "male", 1980),
    ("Luo Mei", "+8613800001017", "female", 1977), ("Zheng Kai", "+8613922221018", "male", 1990),
    ("Liang Hui", "+8613912341019", "female", 1966), ("Song Tao", "+8613512341020", "male", 1987),
    ("Tang Yue", "+8613761231021", "female", 2003), ("Han Feng", "+8613800001022", "male", 1974),
    ("Feng Xue", "+8613922221023", "female", 1982), ("Deng Wei", "+8613912341024", "male", 1996),
]
OUTLET_CODES = ("ROOMS", "REST", "SPA")
# A restaurant bill's items: SKU, category, price in cents.
DISHES = [("DUCK", "food", 18800), ("DIMSUM", "food", 6800), ("TEA", "drinks", 3800), ("WINE", "drinks", 26800)]


@dataclass
class GuideServer:
    url: str
    app: object
    sessions: object
    engine: object

    def transaction(self, work):
        from lps_core.db import run_in_transaction

        return run_in_transaction(self.sessions, work)


@pytest.fixture(scope="module")
def guide_server(tmp_path_factory):
    """LPS with the demo's data and a year of members and bills, on a free local port, with a
    database of its own (the other browser tests' counts stay as the demo leaves them): on the
    PostgreSQL server LPS_TEST_DATABASE_URL names, else SQLite."""
    import threading

    from waitress import create_server

    from lps_core import main
    from lps_core.components import IPlugins
    from lps_core.db import get_engine, get_session_factory, run_in_transaction
    from lps_core.demo import load_demo
    from lps_core.testing import migrated_database

    backend = os.environ.get("LPS_TEST_DATABASE_URL") or "sqlite://"
    with migrated_database(backend, tmp_path_factory.mktemp("guide"), "lps_guide") as url:
        settings = {"sqlalchemy.url": url, **TEST_SETTINGS,
                    "lps.session.secret": "browser-tests-session-secret", "lps.portal.secret": "guide-portal-secret",
                    "lps.cards.issuance": "pool_then_generate", "lps.timezone": "Asia/Shanghai",
                    "lps.api.key_cache_seconds": "0", "lps.rules.cache_seconds": "0",
                    "lps.postings.max_backdate_days": "400", "lps.messages.quiet_hours": "",
                    "pyramid.default_locale_name": "en"}
        engine = get_engine(settings)
        app = main({}, **settings)
        plugins = app.registry.getUtility(IPlugins)
        sessions = get_session_factory(engine)
        run_in_transaction(sessions, lambda db: (load_demo(db, plugins, app.registry.settings),
                                                 _add_welcome_drink(db)))
        run_in_transaction(sessions, lambda db: _a_year_of_the_hotel(db, app))
        server = create_server(app, host="127.0.0.1", port=0, threads=4, clear_untrusted_proxy_headers=True)
        thread = threading.Thread(target=server.run, name="lps-guide-server", daemon=True)
        thread.start()
        yield GuideServer(f"http://127.0.0.1:{server.effective_port}", app, sessions, engine)
        server.close()
        engine.dispose()


def _add_welcome_drink(db):
    """The reward the desk walk redeems: a newly enrolled member affords it (the demo's cost thousands)."""
    from sqlalchemy import insert

    from lps_core.rewards.models import Reward

    db.execute(insert(Reward).values(code="WELCOME", name="Welcome drink", category="item", cost_cents=500,
                                     points_price=150, stock=None, active=True))


@pytest.fixture(scope="module")
def live_server(guide_server):
    """The walks' pages (conftest's `page`) open this module's server."""
    return guide_server.url


def _a_year_of_the_hotel(db, app):
    """What a year of the demo hotel leaves: members enrolled month by month at the desk and online,
    some referred by the demo's members, each with their habit (regular guests, regulars who stopped
    coming, occasional guests, one-visit guests), and their bills at the rooms, the restaurant (with
    items) and the spa, posted through the earning service as the tills post them. Members agreed
    to messages in the portal inbox (and some to e-mail)."""
    from sqlalchemy import select, update

    from lps_core.cards.models import Card
    from lps_core.contract.earning import BillLine
    from lps_core.demo import MEMBERS
    from lps_core.earning.models import EarningRule
    from lps_core.members.models import Member
    from lps_core.members.services import Enrolment, approve_member, enrol_member
    from lps_core.messages.consent import set_consent
    from lps_core.outlets.models import Outlet
    from lps_core.timeutil import utcnow

    now = utcnow()
    rng = random.Random(14)
    # The hotel opened its programme a year and a month ago.
    db.execute(update(EarningRule).values(effective_from=now - timedelta(days=395)))
    outlets = dict(db.execute(select(Outlet.code, Outlet.id)).all())

    def card_of(member_id):
        return db.scalar(select(Card.card_no).where(Card.member_id == member_id, Card.status == "active"))

    demo = {name: db.scalar(select(Member.id).where(Member.name == name)) for name, *_ in MEMBERS}
    referrers = [card_of(demo["Li Wei"]), card_of(demo["Zhang Min"])]
    guests = []
    for i, (name, phone, gender, born) in enumerate(GUESTS):
        enrolled = now - timedelta(days=350 - 14 * i, hours=rng.randrange(24))
        outlet_id = outlets[OUTLET_CODES[i % 3]]
        member_id = enrol_member(db, Enrolment(
            name=name, channel="web" if i % 4 == 3 else "desk", phone=phone, gender=gender,
            email=f"{name.lower().replace(' ', '.')}@example.com", birthday=date(born, i % 12 + 1, 9),
            referrer_card_no=referrers[i % 2] if i % 5 == 1 else None), outlet_id if i % 4 != 3 else None)
        approve_member(db, member_id, issuance="pool_then_generate")
        db.execute(update(Member).where(Member.id == member_id).values(created_at=enrolled, approved_at=enrolled))
        db.execute(update(Card).where(Card.member_id == member_id).values(issued_at=enrolled))
        set_consent(db, member_id, "inbox", True, source="portal", now=enrolled)
        if i % 2:
            set_consent(db, member_id, "email", True, source="portal", now=enrolled)
        guests.append((member_id, enrolled, i % 4))
    for name, member_id in demo.items():
        set_consent(db, member_id, "inbox", True, source="portal", now=now - timedelta(days=360))
        guests.append((member_id, now - timedelta(days=360), 1 if name == "Anna Schmidt" else 0))

    # habit: 0 regular (every 2-4 weeks), 1 stopped coming 3-5 months ago, 2 occasional, 3 one visit
    bill_no = 0
    for member_id, enrolled, habit in guests:
        card_no = card_of(member_id)
        stop = now - timedelta(days=rng.randrange(95, 150)) if habit == 1 else now - timedelta(days=1)
        moment = enrolled + timedelta(days=rng.randrange(2, 9))
        while moment < stop:
            bill_no += 1
            code = OUTLET_CODES[rng.randrange(3)]
            items = ()
            if code == "REST":
                items = tuple(BillLine(sku, category, Decimal(qty), price * qty) for sku, category, price in DISHES
                              for qty in [rng.randrange(0, 3)] if qty)
            amount = sum(item.amount_cents for item in items) or {
                "ROOMS": rng.randrange(68, 158) * 1000, "REST": 38800, "SPA": rng.randrange(298, 598) * 100}[code]
            _post_bill(db, app.registry, code, card_no, f"{code[0]}-{bill_no:05d}", amount,
                       moment.replace(microsecond=0), items)
            if habit == 3:
                break
            moment += timedelta(days=rng.randrange(40, 80) if habit == 2 else rng.randrange(14, 30),
                                hours=rng.randrange(-6, 6))


def _a_control_member_comes_back(db, registry):
    """A member held out of the campaign comes back anyway (the control group's spend)."""
    from sqlalchemy import select

    from lps_core.cards.models import Card
    from lps_core.marketing.models import CampaignMember

    card_no = db.scalar(select(Card.card_no).join(CampaignMember, CampaignMember.member_id == Card.member_id)
                        .where(CampaignMember.control.is_(True), Card.status == "active").limit(1))
    if card_no is not None:  # the control group is drawn at random: it may be empty
        _post_bill(db, registry, "SPA", card_no, "S-CONTROL-1", 39800)


def _post_bill(db, registry, code, card_no, bill_no, amount_cents, occurred_at=None, items=()):
    """A bill as the outlet's till posts it, through the earning service."""
    from sqlalchemy import select

    from lps_core.components import IPlugins, IProgramme
    from lps_core.earning.services import EarnRequest, OutletContext, earn_points_for_bill
    from lps_core.outlets.models import Outlet

    outlet = OutletContext(db.scalar(select(Outlet.id).where(Outlet.code == code)), code)
    return earn_points_for_bill(db, registry.getUtility(IPlugins), registry.getUtility(IProgramme), outlet,
                                EarnRequest(card_no, bill_no, amount_cents, occurred_at, items))


class _Sessions:
    """Sessions for the campaigns job and the worker, as the command line makes them."""

    def __init__(self, engine):
        self.engine = engine

    def __call__(self):
        from sqlalchemy.orm import Session

        return Session(self.engine, expire_on_commit=False)


class _JobEnvironment:
    """What `lps jobs campaigns` gets from the command line: the settings, plugins and sessions."""

    def __init__(self, server):
        from lps_core.components import IPlugins

        self.settings = server.app.registry.settings
        self.plugins = server.app.registry.getUtility(IPlugins)
        self.sessions = server.sessions
        self.transaction = server.transaction


def _send_campaigns_and_deliver(server):
    """`lps jobs campaigns`, then one pass of `lps worker` (the inbox channel needs no server)."""
    from lps_core.components import IPlugins, ISettings
    from lps_core.marketing.campaigns import send_due
    from lps_core.messages.worker import Worker

    report = send_due(_JobEnvironment(server))
    registry = server.app.registry
    Worker(_Sessions(server.engine), registry.getUtility(IPlugins), registry.getUtility(ISettings),
           name="guide-worker").run(once=True)
    return report



# --- The chapter "Reports, analytics and marketing", in English and in Chinese ----------------------

ANALYTICS = [  # view, its headline figure (more than nothing in the demo hotel's year)
    ("cards", "active_cards"), ("new-members", "new_members"), ("demographics", "members"),
    ("referrals", "referrals"), ("churn", "at_risk"), ("rfm", "members"), ("lifecycle", "total")]


SEGMENT = "Regulars not seen for a month"


def figure(page, key):
    """A report's headline figure as a number (money and counts alike)."""
    text = page.locator(f"#total-{key} dd").inner_text()
    found = MONEY.search(text)
    return Decimal(found.group().replace(",", "")) if found else int(text.replace(",", "").strip())


def drawn(page, expect):
    """The report's chart drawn by the vendored ECharts."""
    expect(page.locator("#report-chart")).to_have_attribute("data-rendered", "true")
    expect(page.locator("#report-chart canvas")).to_have_count(1)


def in_chinese(page, selector="main h1"):
    """The text of `selector` (the page's heading) is in Chinese: the catalog translated it."""
    return re.search(r"[\u4e00-\u9fff]", page.locator(selector).first.inner_text()) is not None


def test_reports_analytics_and_marketing(page, browser, guide_server, sign_in, swipe, expect, tmp_path):
    TAKEN.clear()
    page.set_viewport_size(CHAPTER_VIEWPORT)
    sign_in(page, *DEMO_ADMIN)
    made = walk_the_chapter(page, guide_server, swipe, expect, tmp_path, zh=False, made={})
    # Head office's staff in China: a Chinese browser, so LPS speaks Chinese and dates read 2026/11/26.
    context = browser.new_context(base_url=guide_server.url, viewport=CHAPTER_VIEWPORT, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    chinese = context.new_page()
    try:
        sign_in(chinese, *DEMO_ADMIN)
        expect(chinese.locator("html")).to_have_attribute("lang", "zh-CN")
        walk_the_chapter(chinese, guide_server, swipe, expect, tmp_path, zh=True, made=made)
    finally:
        context.close()
    assert TAKEN == CHAPTER_PICTURES + [f"{name}-zh" for name in CHAPTER_PICTURES]


def walk_the_chapter(page, server, swipe, expect, tmp_path, *, zh, made):
    """The chapter's steps, each asserting what its picture shows. In English it creates the
    coupon type, the segment and the campaign (recorded in `made`); in Chinese it shows them again."""
    from openpyxl import load_workbook
    from sqlalchemy import func, select

    from lps_core.cards.models import Card
    from lps_core.coupons.models import Coupon
    from lps_core.marketing.models import CampaignMember, Segment
    from lps_core.marketing.schemas import SegmentDefinition
    from lps_core.marketing.segments import count
    from lps_core.settings import settings_of
    from lps_core.timeutil import utcnow

    def name(base):
        return f"{base}-zh" if zh else base

    def check_language(selector="main h1"):
        assert in_chinese(page, selector) == zh, page.locator(selector).first.inner_text()

    tz = settings_of(server.app.registry.settings).timezone
    today = utcnow().astimezone(tz).date()

    # The dashboard: a date range, its figures, the trend chart, each outlet and the points liability.
    page.goto("/")
    page.fill("#figures-from", (today.replace(day=1) - timedelta(days=40)).replace(day=1).isoformat())
    page.fill("#figures-to", today.isoformat())
    page.click("#figures-range button[type=submit]")
    drawn(page, expect)
    for code in OUTLET_CODES:
        expect(page.locator("#figures-outlets tbody tr", has_text=code)).to_have_count(1)
    liability = MONEY.search(page.locator("#figure-liability dd").inner_text()).group()
    assert Decimal(liability.replace(",", "")) > 0
    picture(page, name("dashboard-figures"), "#figures")

    # A report: sales of the hotel month by month over six months, its totals, chart and table.
    page.goto("/reports")
    page.click("#report-sales a")
    check_language()
    page.select_option("#filter-period", "range")
    page.fill("#filter-from", (today.replace(day=1) - timedelta(days=150)).replace(day=1).isoformat())
    page.fill("#filter-to", today.isoformat())
    page.select_option("#filter-group_by", "month")
    page.select_option("#filter-property", "GDH")
    page.click("#report-filters button[type=submit]")
    drawn(page, expect)
    net = page.locator("#total-net dd").inner_text()
    expect(page.locator("#table-0 tfoot")).to_contain_text(net)
    assert page.locator("#table-0 tbody tr").count() >= 6  # six months, each outlet's row in each
    picture(page, name("report-sales"), "main")
    if not zh:  # the export holds the screen's figures
        with page.expect_download() as download:
            page.click("#export-xlsx")
        path = tmp_path / download.value.suggested_filename
        download.value.save_as(path)
        sheet = load_workbook(path)["Totals"]
        totals = dict(zip([cell.value for cell in sheet[sheet.max_row - 1]], [cell.value for cell in sheet[sheet.max_row]]))
        assert f"{totals['Net charged']:,.2f}" in net and totals["Bills"] == figure(page, "bills")

    # The points report as it prints: no menu, no filters, no buttons; the liability on paper.
    page.goto("/reports/points")
    expect(page.locator("#total-liability dd")).to_contain_text(liability)
    page.emulate_media(media="print")
    expect(page.locator("#report-filters")).to_be_hidden()
    expect(page.locator("#export-xlsx")).to_be_hidden()
    expect(page.locator("header nav")).to_be_hidden()
    picture(page, name("report-print"), "main")
    page.emulate_media(media="screen")

    # Member analytics: each view's chart and headline figure; the RFM quadrant "to retain" as a list.
    for view, key in ANALYTICS:
        page.goto(f"/analytics/{view}")
        drawn(page, expect)
        check_language("#report-filters label span")  # a view's title may be a name such as RFM
        assert figure(page, key) > 0, view
        if view == "rfm":
            page.click("#quadrant-retain")
            expect(page.locator("#quadrant-retain")).to_have_attribute("aria-current", "page")
            drawn(page, expect)
            retain = figure(page, "members_retain")
            assert retain > 0
            expect(page.locator("#table-2 tbody tr")).to_have_count(min(retain, 50))
            expect(page.locator("#table-2 a.member-link")).to_have_count(min(retain, 50))
        picture(page, name(f"analytics-{view}"), "main", start="#quadrants" if view == "rfm" else None)

    # A segment: regulars who have not come for a month; its live count, preview and export.
    if not zh:
        page.goto("/marketing")
        page.click("#new-segment")
        page.fill("#name", SEGMENT)
        page.fill("#description", "Two visits or more in the last year, none in the last 30 days")
        page.fill("#absent_days", "30")
        page.fill("#visits_min", "2")
        page.click("#save-segment")
        page.wait_for_url("**/marketing/segments/*")
        made["segment"] = page.url
    else:
        page.goto(made["segment"])
    expected = server.transaction(lambda db: count(
        db, SegmentDefinition.model_validate(db.scalar(select(Segment.definition).where(Segment.name == SEGMENT))),
        utcnow(), tz))
    assert expected >= 5
    expect(page.locator("#count")).to_have_text(str(expected))
    expect(page.locator("#preview tbody tr")).to_have_count(min(expected, 20))
    picture(page, name("segment"), "main")
    if not zh:
        with page.expect_download() as download:
            page.click("#export-csv")
        exported = (tmp_path / "segment.csv")
        download.value.save_as(exported)
        text = exported.read_text(encoding="utf-8-sig")
        assert all(row.inner_text() in text for row in page.locator("#preview tbody tr td:nth-child(2)").all())

    # A coupon type for the campaign: 50.00 off a bill of 200.00 or more, valid 30 days from issue.
    page.goto("/coupons")
    if not zh:
        page.fill("#ct-code", "WELCOME50")
        page.fill("#ct-name", "50.00 off: welcome back")
        page.select_option("#ct-kind", "amount")
        page.fill("#ct-value", "50.00")
        page.fill("#ct-valid_days", "30")
        page.fill("#ct-min_spend", "200.00")
        page.check("#coupon-type-form input[name=active]")
        page.click("#coupon-type-form button[type=submit]")
    expect(page.locator("#coupon-types tbody tr", has_text="WELCOME50")).to_contain_text("200.00")
    check_language()
    picture(page, name("coupon-types"), "main")

    # A campaign to the segment: its message, the inbox, a fifth held out, the coupon and bonus points.
    page.goto(made["segment"])
    page.click("#campaign-to-segment")
    page.fill("#name", "我们想念您" if zh else "We miss you")
    page.fill("#subject", "{member_name}，欢迎回来" if zh else "Welcome back, {member_name}")
    page.fill("#body", "{member_name}您好：凭券 {coupon_code} 消费满200元减50元，另赠200积分。" if zh else
              "Dear {member_name}, {coupon_code} takes 50.00 off a bill of 200.00, and 200 bonus points are on your card.")
    page.select_option("#channels", ["inbox"])
    page.fill("#control_percent", "25")
    page.fill("#bonus_points", "200")
    page.fill("#coupon_type_code", "WELCOME50")
    expect(page.locator("#segment_id option:checked")).to_have_text(SEGMENT)
    picture(page, name("campaign-new"), "#campaign-form")
    if not zh:
        page.click("#save-campaign")
        page.wait_for_url("**/marketing/campaigns/*")
        expect(page.locator("#status")).to_have_text("draft")
        page.click("#schedule")  # no time given: now
        expect(page.locator("#status")).to_have_text("scheduled")
        made["campaign"] = page.url
        report = _send_campaigns_and_deliver(server)
        (_, _, reached, held_out, messages, points, coupons), = report.campaigns
        assert reached + held_out == expected and messages == coupons == reached and points == 200 * reached
        made["reached"], made["held_out"] = reached, held_out
        server.transaction(lambda db: _a_control_member_comes_back(db, server.app.registry))

    # The coupon at the cashier: after the swipe it is offered; its key makes it a tender line.
    def recipient_cards(db):
        return db.scalars(select(Card.card_no).join(Coupon, Coupon.member_id == Card.member_id).where(
            Coupon.source == "campaign", Coupon.status == "issued", Card.status == "active")
            .order_by(Card.card_no)).all()

    cards = server.transaction(recipient_cards)
    page.goto("/cashier?outlet=REST")
    swipe(page, cards[0])
    offer = page.locator("#offers li.offer", has_text="50.00 off: welcome back")
    expect(offer).to_have_count(1)
    page.keyboard.type("388")
    page.keyboard.press(offer.locator("button").get_attribute("data-key"))
    expect(page.locator("#tender-0-kind")).to_have_value("coupon")
    expect(page.locator("#tender-0-amount")).to_have_value("50.00")
    expect(page.locator("#tender-0-reference")).to_have_value(offer.get_attribute("data-code"))
    picture(page, name("cashier-coupon"))
    page.keyboard.press("F9")
    expect(page.locator("#settled .flash")).to_be_visible()

    # The campaign's results: recipients and the control group, delivered, coupons redeemed, spend.
    page.goto(made["campaign"])
    campaign_id = int(made["campaign"].rstrip("/").rsplit("/", 1)[1])
    held_out = server.transaction(lambda db: db.scalar(select(func.count()).select_from(CampaignMember).where(
        CampaignMember.campaign_id == campaign_id, CampaignMember.control.is_(True))))
    assert held_out == made["held_out"]
    expect(page.locator("#status")).to_have_text("sent")
    expect(page.locator("#recipients")).to_have_text(str(made["reached"]))
    expect(page.locator("#control")).to_have_text(str(held_out))
    expect(page.locator("#delivered")).to_have_text(str(made["reached"]))
    expect(page.locator("#results tr").nth(8).locator("td")).to_have_text("2" if zh else "1")  # redeemed
    assert MONEY.search(page.locator("#spend-recipient").inner_text())
    check_language("#results th")
    picture(page, name("campaign-results"), "main")
    return made


# --- The guides show exactly the pictures the walks take --------------------------------------------

def test_the_guides_show_the_pictures_the_walks_take_and_their_links_resolve():
    english = GUIDES["en"].read_text(encoding="utf-8")
    chinese = GUIDES["zh"].read_text(encoding="utf-8")
    assert sorted(re.findall(r"\(images/([\w-]+)\.png\)", english)) == sorted(DESK_PICTURES + CHAPTER_PICTURES)
    assert sorted(re.findall(r"\(\.\./images/([\w-]+)\.png\)", chinese)) == sorted(
        f"{name}-zh" for name in CHAPTER_PICTURES)
    for guide in GUIDES.values():
        for target in re.findall(r"\]\(([^)\s]+)\)", guide.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):
                continue
            page, _, anchor = target.partition("#")
            path = (guide.parent / page).resolve() if page else guide
            assert path.is_file(), f"{guide.name}: {target}"
            if anchor and path.suffix == ".md":
                assert anchor in anchors_of(path), f"{guide.name}: {target} (no such heading)"


def anchors_of(page):
    """The anchors of a Markdown page as GitHub makes them from its headings, and its <a id>s."""
    text = page.read_text(encoding="utf-8")
    headings = re.findall(r"^#+ (.+)$", text, re.MULTILINE)
    slugs = {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings}
    return slugs | set(re.findall(r'<a id="([^"]+)">', text))
