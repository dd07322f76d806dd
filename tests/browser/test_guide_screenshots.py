"""The staff guide's pictures (docs/staff-guide.md, docs/images/*.png), taken from the real screens.

This walk through the screens that the guide shows runs with the other browser tests, so the guide
cannot quietly describe screens that no longer work. Its pictures (1366x768) go to
tests/browser/screenshots/guide/; with LPS_UPDATE_GUIDE_IMAGES=1 they replace those in docs/images
(then commit them). optipng, where it is installed, makes them smaller.
"""
import os
import re
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

from lps_core.demo import DEMO_ADMIN

UPDATE = os.environ.get("LPS_UPDATE_GUIDE_IMAGES") == "1"
DOCS = Path(__file__).parents[2] / "docs"
GUIDE_IMAGES = DOCS / "images"
TRIAL_IMAGES = Path(__file__).parent / "screenshots" / "guide"


TAKEN = []


def picture(page, name):
    """The visible part of the page, as the guide's picture `name`.png."""
    TAKEN.append(name)
    folder = GUIDE_IMAGES if UPDATE else TRIAL_IMAGES
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path))
    if UPDATE and shutil.which("optipng"):
        subprocess.run(["optipng", "-quiet", "-o2", "-strip", "all", str(path)], check=True)


def test_guide_pictures(page, sign_in, swipe, expect):
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

    # The guide shows exactly these pictures, and each is in docs/images.
    shown = re.findall(r"\(images/([\w-]+)\.png\)", (DOCS / "staff-guide.md").read_text())
    assert sorted(shown) == sorted(TAKEN)
    assert all((GUIDE_IMAGES / f"{name}.png").is_file() for name in shown)
