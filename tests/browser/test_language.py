"""The language switch in the page header: Chinese and back to English, remembered across pages."""
import gettext
from importlib.resources import files

from lps_core.demo import DEMO_ADMIN


def chinese(text):
    catalog = gettext.translation("lps", localedir=str(files("lps_core") / "locale"), languages=["zh_CN"])
    return catalog.gettext(text)


def test_switch_to_chinese_and_back(page, sign_in):
    sign_in(page, *DEMO_ADMIN)
    nav = page.locator("header nav")
    assert "Dashboard" in nav.inner_text()

    page.click("header .languages a[hreflang=zh-CN]")
    page.wait_for_load_state()
    assert page.get_attribute("html", "lang") == "zh-CN"
    assert chinese("Dashboard") != "Dashboard"
    assert chinese("Dashboard") in nav.inner_text()
    assert chinese("Sign out") in page.inner_text("form.signout button")
    page.goto("/")  # another page keeps the chosen language
    assert chinese("Dashboard") in nav.inner_text()
    page.goto("/members")  # a list: its pager too
    pager = page.inner_text("nav.pager")
    assert "页" in pager and not any("a" <= letter.lower() <= "z" for letter in pager)

    page.click("header .languages a[hreflang=en]")
    page.wait_for_load_state()
    assert page.get_attribute("html", "lang") == "en"
    assert "Dashboard" in nav.inner_text()
    assert page.inner_text("form.signout button").strip() == "Sign out"
