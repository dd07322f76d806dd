"""The staff screens speak English and Chinese: every visible text of every template is marked for
translation and translated, the compiled catalogs are current, the language follows the browser
or the switch in the header, and money and dates are formatted per locale."""
import re
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from lps_core import catalogs
from lps_core.web.i18n import Formatter

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


@pytest.mark.parametrize("locale, money, when", [
    ("en", "CN¥1,234.50", "11/25/26, 8:30 PM"),
    ("zh_CN", "¥1,234.50", "2026/11/25 20:30"),
])
def test_money_and_dates_follow_the_locale(locale, money, when):
    fmt = Formatter(locale, ZoneInfo("Asia/Shanghai"), "CNY")
    assert fmt.money(123450) == money
    assert fmt.datetime(datetime(2026, 11, 25, 12, 30, tzinfo=timezone.utc)).replace("\u202f", " ") == when
    assert fmt.percent("0.15") == "15%"
