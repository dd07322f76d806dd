"""The staff screens speak English and Chinese: every visible text of every template is marked for
translation and translated, the compiled catalogs are current, the language follows the browser
or the switch in the header, every stored code (status, kind, role...) has a Chinese name, every
list screen is Chinese down to its pager, money and dates have one format per locale, and the
numbers the cashier screen proposes carry the programme's local date."""
import ast
import re
from datetime import date, datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pyramid.i18n import TranslationString, make_localizer

from lps_core import catalogs
from lps_core.labels import LABELS
from lps_core.screens.shell.i18n import Formatter
from lps_core.timeutil import as_utc, utcnow

TEMPLATES = sorted(Path(catalogs.PACKAGE).rglob("*.pt"))
# Text that is the same in every language: the product's name, symbols and numbers.
UNIVERSAL = re.compile(r"^(LPS|[\W\d_]+)$")
TRANSLATED_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")


class UntranslatedText(HTMLParser):
    """Finds text and labelling attributes outside i18n:translate / i18n:attributes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []  # (tag, translated, skipped) per open element
        self.found = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        inside = any(translated for _, translated, _ in self.stack)
        skipped = tag in ("script", "style") or any(skip for _, _, skip in self.stack)
        translated = "i18n:translate" in attrs
        if not skipped:
            named = set((attrs.get("i18n:attributes") or "").replace(";", " ").split())
            for name in TRANSLATED_ATTRIBUTES:
                value = attrs.get(name)
                if value and _is_text(value) and name not in named:
                    self.found.append(f"<{tag} {name}={value!r}> needs i18n:attributes")
        if tag not in ("input", "br", "img", "meta", "link", "hr"):
            self.stack.append((tag, translated or inside, skipped))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if self.stack and (self.stack[-1][1] or self.stack[-1][2]):
            return
        if _is_text(data):
            self.found.append(f"text {data.strip()[:60]!r} is not inside i18n:translate")


def _is_text(value):
    bare = re.sub(r"\$\{[^}]*\}", "", value).strip()
    return bool(bare) and not UNIVERSAL.match(bare) and bool(re.search(r"[^\W\d_]", bare))


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: str(path.relative_to(catalogs.PACKAGE)))
def test_every_visible_text_is_marked_for_translation(template):
    parser = UntranslatedText()
    parser.feed(template.read_text(encoding="utf-8"))
    assert parser.found == []


def test_every_marked_text_is_translated_and_compiled():
    assert catalogs.problems() == []


MARKERS = {"_", "dgettext", "TranslationString"}


def marked_inside_f_strings(tree) -> list[int]:
    """The lines of texts marked for translation inside an f-string's replacement fields. Before
    Python 3.12 an f-string is one token, which the catalog extractor does not look into."""
    return sorted({node.lineno for joined in ast.walk(tree) if isinstance(joined, ast.JoinedStr)
                   for node in ast.walk(joined) if isinstance(node, ast.Call)
                   and getattr(node.func, "id", getattr(node.func, "attr", None)) in MARKERS})


def test_the_f_string_scan_finds_a_marked_text():
    assert marked_inside_f_strings(ast.parse('x = f"<a>{escape(_(\'Try again\'))}</a>"\ny = _("ok")')) == [1]


def test_no_text_is_marked_inside_an_f_string():
    found = [f"{path.relative_to(catalogs.PACKAGE.parent)}:{line}" for path in sorted(catalogs.PACKAGE.rglob("*.py"))
             for line in marked_inside_f_strings(ast.parse(path.read_text(encoding="utf-8")))]
    assert found == [], "mark these texts outside the f-string, so that `make catalogs` finds them"


def test_the_language_follows_the_browser(testapp):
    assert "登录" in testapp.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).text
    assert "Sign in" in testapp.get("/login", headers={"Accept-Language": "en-GB"}).text
    assert "登录" in testapp.get("/login", headers={"Accept-Language": "zh"}).text
    assert "Sign in" in testapp.get("/login", headers={"Accept-Language": "fr"}).text


def test_the_switch_in_the_header_wins_over_the_browser(testapp):
    page = testapp.get("/login", headers={"Accept-Language": "en"})
    switch = page.html.select_one('header .languages a[hreflang="zh-CN"]')
    assert switch.text == "中文"
    answer = testapp.get(switch["href"], headers={"Accept-Language": "en"}, status=303)
    assert answer.location.endswith("/login")
    page = testapp.get("/login", headers={"Accept-Language": "en"})
    assert "登录" in page.text and page.html.html["lang"] == "zh-CN"
    testapp.get("/locale/en", {"next": "https://elsewhere.example/"}, status=303)
    assert "Sign in" in testapp.get("/login").text


def test_the_switch_never_redirects_to_another_site(testapp):
    assert testapp.get("/locale/en", {"next": "//elsewhere.example/"}, status=303).location.endswith("/")


@pytest.mark.parametrize("locale, money, day, when", [
    ("en", "CN¥1,234.50", "Nov 26, 2026", "Nov 26, 2026, 1:30 AM"),
    ("zh_CN", "¥1,234.50", "2026年11月26日", "2026年11月26日 01:30"),
])
def test_money_and_dates_have_one_format_per_locale(locale, money, day, when):
    """A date is written the same way alone and in a time, in the programme's time zone (17:30 UTC
    is already the next day in Shanghai), whether the screen has a datetime, a naive UTC datetime
    from SQLite, an ISO 8601 text from a document, or a date."""
    fmt = Formatter(locale, ZoneInfo("Asia/Shanghai"), "CNY")
    assert fmt.money(123450) == money
    moment = datetime(2026, 11, 25, 17, 30, tzinfo=timezone.utc)
    for value in (moment, moment.replace(tzinfo=None), "2026-11-25T17:30:00Z", "2026-11-26T01:30:00+08:00"):
        assert fmt.datetime(value).replace("\u202f", " ") == when
        assert fmt.date(value) == day
    assert fmt.date(date(2026, 11, 26)) == fmt.date("2026-11-26") == day
    assert fmt.datetime(None) == fmt.date(None) == fmt.datetime("") == ""
    assert fmt.percent("0.15") == "15%"


def test_templates_format_dates_only_through_fmt():
    """No template writes a date itself (isoformat, strftime, or a document's raw time)."""
    for template in TEMPLATES:
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"isoformat\(|strftime\(|\$\{[^}]*\[\'(occurred|created|redeemed)_at\'\]\}", text), template


# --- Every stored code has a Chinese name --------------------------------------------------------------

CHINESE = make_localizer("zh_CN", [str(catalogs.LOCALE_DIR)])


def chinese(text: TranslationString) -> str:
    return CHINESE.translate(text)


def ledger_entry_kinds() -> set[str]:
    """Every ledger entry kind the code posts: the `kind` given to the ledger's credit and debit
    (a literal, or a module constant), and debit's default."""
    from lps_core.ledger import services as ledger

    kinds = {ledger.DEBIT}
    for path in Path(catalogs.PACKAGE).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {target.id: node.value.value for node in tree.body if isinstance(node, ast.Assign)
                     and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
                     for target in node.targets if isinstance(target, ast.Name)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name not in ("credit", "debit", "append_credit"):
                continue
            for keyword in node.keywords:
                if keyword.arg != "kind":
                    continue
                value = keyword.value
                if isinstance(value, ast.Constant):
                    kinds.add(value.value)
                elif isinstance(value, ast.Name) and (value.id in constants or hasattr(ledger, value.id)):
                    kinds.add(constants.get(value.id) or getattr(ledger, value.id))
                elif isinstance(value, ast.Name):  # the ledger passing its own parameter on
                    assert path.parent.name == "ledger", f"{path}: a ledger kind this test cannot read: {value.id}"
                elif isinstance(value, ast.Attribute):
                    kinds.add(getattr(ledger, value.attr))
    return kinds


def breakdown_steps() -> set[str]:
    """Every step name the earning code writes into a breakdown ({"step": ...})."""
    steps = {"formula"}  # the formula plugins' own step
    for path in (Path(catalogs.PACKAGE) / "earning").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values):
                    if isinstance(key, ast.Constant) and key.value == "step" and isinstance(value, ast.Constant):
                        steps.add(value.value)
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "multiply" and node.args:
                if isinstance(node.args[0], ast.Constant):
                    steps.add(node.args[0].value)
    return steps


def known_codes():
    """(kind of label, the list of codes the code knows), from where each list is defined."""
    from lps_core.builtin import promotion_kinds
    from lps_core.cards.funds import DEPOSIT_TENDERS
    from lps_core.cards.models import CARD_STATUSES
    from lps_core.builtin.tenders import lps_tenders
    from lps_core.earning import promotions, rules
    from lps_core.ledger.models import ACCOUNT_KINDS
    from lps_core.members import models as members
    from lps_core.operators.roles import ROLES
    from lps_core.rewards import models as rewards
    from lps_core.members.activity import COUNTERS
    from lps_core.tiers.services import QUALIFICATION_KEYS

    return [
        ("member status", members.MEMBER_STATUSES), ("enrolment channel", members.ENROLMENT_CHANNELS),
        ("gender", members.GENDERS), ("contact channel", members.CONTACT_CHANNELS),
        ("preference", members.PREFERENCE_KEYS), ("card status", CARD_STATUSES), ("account", ACCOUNT_KINDS),
        ("counter", COUNTERS), ("qualification", tuple(QUALIFICATION_KEYS)), ("ledger entry", ledger_entry_kinds()),
        ("tender", tuple(tender.name for tender in lps_tenders({}, None)) + DEPOSIT_TENDERS),
        ("promotion kind", tuple(kind.name for kind in promotion_kinds.KINDS)),
        ("promotion stacking", promotions.STACKING), ("cap period", promotions.CAP_PERIODS),
        ("rounding", rules.ROUNDINGS), ("band basis", rules.BAND_BASES), ("band period", rules.BAND_PERIODS),
        ("breakdown step", breakdown_steps()), ("redemption status", rewards.STATUSES),
        ("reward category", rewards.CATEGORIES), ("role", tuple(ROLES)),
    ]


@pytest.mark.parametrize("kind, codes", known_codes(), ids=lambda value: value if isinstance(value, str) else "")
def test_every_known_code_has_a_chinese_label(kind, codes):
    assert codes, f"no {kind} found"
    missing = sorted(code for code in codes if code not in LABELS[kind])
    assert missing == [], f"{kind}: no label for {missing} in lps_core/labels.py"
    untranslated = sorted(code for code in codes if chinese(LABELS[kind][code]) == str(LABELS[kind][code]))
    assert untranslated == [], f"{kind}: no Chinese for {untranslated}: run `make catalogs` and translate"


def test_one_english_word_has_a_chinese_name_per_meaning():
    """"active" of a member, a card and a promotion are messages of their own (msgctxt)."""
    assert chinese(LABELS["card status"]["active"]) != chinese(LABELS["promotion kind"]["multiplier"])
    meanings = {chinese(LABELS[kind]["cancelled"]) for kind in ("card status", "redemption status")}
    assert all(meanings) and LABELS["card status"]["cancelled"].context != LABELS["redemption status"]["cancelled"].context


# --- Every list screen in Chinese ---------------------------------------------------------------------

def chinese_admin(testapp, seed):
    from lps_core.testing import sign_in_as

    sign_in_as(testapp, seed, "laoshi", "admin-pass-123", ("administrator",), ("all",))
    testapp.set_cookie("_LOCALE_", "zh_CN")


@pytest.fixture
def programme(seed):
    """A member with points and a ledger, a pending enrolment, a reward, a promotion, a card number
    pool and a tier's qualification."""
    from sqlalchemy import update

    from lps_core.cards.services import generate_pool
    from lps_core.earning.promotions import clean_promotion, save_promotion
    from lps_core.ledger import services as ledger
    from lps_core.members.models import Tier
    from lps_core.members.services import Enrolment, enrol_member
    from lps_core.rewards import services as rewards

    card_no = seed.member_card("Wang Fang")
    ledger.credit(seed.db, seed.points_account(card_no), 800, kind=ledger.EARN, business_key="gift", fingerprint="gift",
                  expires_at=utcnow() + timedelta(days=365))
    enrol_member(seed.db, Enrolment(name="Li Si", channel="web", phone="+8613911119999"))
    rewards.create_reward(seed.db, "MUG", {"name": "Hotel mug", "category": "item", "cost_cents": 500, "stock": 3})
    save_promotion(seed.db, clean_promotion({"code": "DOUBLE", "name": "Double points", "kind": "multiplier",
                                             "params": {"multiplier": "2"}, "starts_at": "2026-01-01T00:00:00Z",
                                             "ends_at": "2030-01-01T00:00:00Z"}))
    generate_pool(seed.db, 3, card_type_code="standard")
    seed.db.execute(update(Tier).where(Tier.code == "silver").values(qualification={"points": 5000, "nights": 10}))
    seed.db.commit()
    return card_no


LIST_SCREENS = ["/members?name=a", "/approvals", "/member", "/rewards?outlet=REST&card_no={card_no}", "/rewards/manage",
                "/config/outlets", "/config/promotions", "/config/tiers", "/config/card-types",
                "/config/pools?card_type=standard", "/operators", "/audit"]
# Raw codes that must not show as the whole text of a cell on a Chinese screen.
RAW_CODES = {code for values in LABELS.values() for code in values}


@pytest.mark.parametrize("path", LIST_SCREENS)
def test_every_list_screen_is_chinese_down_to_its_pager_and_codes(testapp, seed, programme, path):
    from sqlalchemy import select

    from lps_core.members.models import Member

    chinese_admin(testapp, seed)
    if path == "/member":
        path = f"/members/{seed.db.scalar(select(Member.id).where(Member.name == 'Wang Fang'))}"
    page = testapp.get(path.format(card_no=programme))
    assert page.html.html["lang"] == "zh-CN"
    pagers = page.html.select("nav.pager")
    assert pagers, "a list screen has a pager"
    for pager in pagers:
        text = " ".join(pager.get_text().split())
        assert not re.search(r"[A-Za-z]", text), f"English in the pager: {text!r}"
        assert "第" in text and "页" in text
    cells = [" ".join(cell.get_text().split()) for cell in page.html.select("main td, main dd, main option, .badge")]
    assert not [cell for cell in cells if cell in RAW_CODES], "codes shown as stored"
    if path == "/config/tiers":
        assert f"{chinese(LABELS['qualification']['points'])} 5000" in page.text
    shown = " ".join(cell.get_text() for cell in page.html.select("main td, main dd, main li, main small"))
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", shown), "a time shown as ISO 8601"


def test_the_member_page_names_statuses_kinds_and_dates_in_chinese(testapp, seed, programme):
    from sqlalchemy import select

    from lps_core.members.models import Member

    chinese_admin(testapp, seed)
    member = seed.db.scalar(select(Member).where(Member.name == "Wang Fang"))
    page = testapp.get(f"/members/{member.id}")
    assert page.html.select_one(".member-head .badge").text == chinese(LABELS["member status"]["active"])
    assert chinese(LABELS["card status"]["active"]) in page.html.select_one("#cards td:nth-of-type(3)").text
    assert page.html.select_one("#ledger tbody td:nth-of-type(2)").text == chinese(LABELS["ledger entry"]["earn"])
    enrolled = Formatter("zh_CN", timezone.utc, "CNY").date(member.created_at)
    assert re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", enrolled) and enrolled in page.html.select_one("#profile").text


def test_the_dashboard_calls_an_outlets_name_a_name_not_a_persons_name(testapp, seed):
    chinese_admin(testapp, seed)
    page = testapp.get("/")
    headers = [th.text for th in page.html.select("main section table th")]
    outlet_name = CHINESE.translate(TranslationString("Name", domain="lps_members", context="outlet"))
    person_name = CHINESE.translate(TranslationString("Name", domain="lps_members"))
    assert outlet_name not in ("Name", person_name)
    assert headers[1] == outlet_name
    assert page.html.html["lang"] == "zh-CN"


# --- Numbers the cashier screen proposes carry the programme's date -----------------------------------

def test_new_references_are_dated_in_the_programmes_time_zone():
    from lps_core.screens.desk.forms import new_reference

    ahead, behind = ZoneInfo("Etc/GMT-14"), ZoneInfo("Etc/GMT+12")  # UTC+14 and UTC-12: 26 hours apart
    before = utcnow()
    early, late = new_reference("REST-", behind), new_reference("REST-", ahead)
    after = utcnow()
    days = lambda zone: {moment.astimezone(zone).strftime("%Y%m%d") for moment in (before, after)}
    assert early[5:13] in days(behind) and late[5:13] in days(ahead) and early[5:13] != late[5:13]


def test_the_cashier_screen_proposes_a_bill_number_of_the_local_day(database_url, seed):
    """On a programme whose local date differs from UTC's now, the proposed bill number carries
    the local date."""
    from webtest import TestApp

    from lps_core import main
    from lps_core.testing import TEST_SETTINGS, sign_in_as

    zone = "Etc/GMT+12" if utcnow().hour < 12 else "Etc/GMT-12"  # local date = UTC's yesterday or tomorrow
    app = TestApp(main({}, **{"sqlalchemy.url": database_url, "lps.timezone": zone, **TEST_SETTINGS}))
    sign_in_as(app, seed, "kassa", "cashier-pass-123", ("cashier",), ("REST",))
    card_no = seed.member_card("Zhou Xun")
    before = utcnow()
    bill_no = app.get("/cashier", {"outlet": "REST", "card_no": card_no}).html.select_one("#bill_no")["value"]
    after = utcnow()
    local_days = {moment.astimezone(ZoneInfo(zone)).strftime("%Y%m%d") for moment in (before, after)}
    assert bill_no.startswith("REST-") and bill_no[5:13] in local_days
    assert bill_no[5:13] not in {moment.strftime("%Y%m%d") for moment in (before, after)}


def test_a_rewards_window_is_shown_in_the_programmes_time_zone_and_saves_back_unchanged(database_url, seed):
    """The edit form shows a reward's times with the programme's offset (not UTC, not naive from
    SQLite), so saving the form unchanged keeps them."""
    from sqlalchemy import select
    from webtest import TestApp

    from lps_core import main
    from lps_core.rewards import services as rewards
    from lps_core.rewards.models import Reward
    from lps_core.testing import TEST_SETTINGS, sign_in_as

    opens = datetime(2026, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(timezone.utc)  # stored in UTC
    rewards.create_reward(seed.db, "SPA", {"name": "Spa hour", "category": "item", "cost_cents": 8000,
                                           "available_from": opens, "available_to": opens + timedelta(days=365)})
    seed.db.commit()
    app = TestApp(main({}, **{"sqlalchemy.url": database_url, "lps.timezone": "Asia/Shanghai", **TEST_SETTINGS}))
    sign_in_as(app, seed, "mei", "marketing-pass-123", ("marketing",), ("all",))
    form = app.get("/rewards/manage/SPA").forms["edit-reward"]
    assert form["available_from"].value == "2026-01-01T00:00+08:00"
    assert form["available_to"].value == "2027-01-01T00:00+08:00"
    form.submit(status=303)
    seed.db.expire_all()
    saved = seed.db.scalar(select(Reward).where(Reward.code == "SPA"))
    assert as_utc(saved.available_from) == opens and as_utc(saved.available_to) == opens + timedelta(days=365)


def test_the_configuration_forms_name_their_choices_in_chinese(testapp, seed):
    chinese_admin(testapp, seed)
    form = testapp.get("/config/promotions/new").html
    rules = testapp.get("/config/outlets/REST/rules").html
    for page, field, kind in ((form, "kind", "promotion kind"), (form, "stacking", "promotion stacking"),
                              (form, "cap_period", "cap period"), (rules, "rounding", "rounding"),
                              (rules, "band_basis", "band basis"), (rules, "band_period", "band period")):
        # A plugin's own promotion kinds (nth_visit) are named by their plugin, not by LPS's catalogs.
        options = {option["value"]: option.text for option in page.select(f"select#{field} option")
                   if option["value"] and (kind != "promotion kind" or option["value"] in LABELS[kind])}
        assert options and options == {value: chinese(LABELS[kind][value]) for value in options}, field
