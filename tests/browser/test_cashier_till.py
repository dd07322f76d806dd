"""The cashier's screen as a till, measured in Chromium: from a swipe to the printed receipt of a cash
bill with the member's discount, the keystrokes and clicks the cashier makes and the page loads, with
the receipt printed on a thermal printer (a raw TCP port on loopback that keeps every byte); and the
Settle button without scrolling at 1366x768 and on a 10-inch tablet either way up.

The swipe is what a keyboard-wedge reader does: it types the card number and Enter into the card
field. Those are the reader's, not the cashier's; the page counts every trusted key and click after
the member shows."""
import time

import pytest

from lps_core.demo import DEMO_ADMIN
from tests.test_thermal_receipts import NetworkPrinter

GUEST = "Li Wei"  # gold: 10 % off at the restaurant
AMOUNT = "388"  # typed as a cashier types it; 38.80 off, 349.20 due
DUE = "349.20"
MAX_KEYSTROKES = 6

COUNTER = """
window.lpsTill = {keys: 0, clicks: 0, loadedAt: Date.now()};
window.addEventListener("keydown", function (e) { if (e.isTrusted) { window.lpsTill.keys += 1; } }, true);
window.addEventListener("mousedown", function (e) { if (e.isTrusted) { window.lpsTill.clicks += 1; } }, true);
window.addEventListener("touchstart", function (e) { if (e.isTrusted) { window.lpsTill.clicks += 1; } }, true);
"""


@pytest.fixture
def printer(page, sign_in, expect):
    """REST's receipt printer: a network printer on loopback that prints by itself after settling;
    removed again afterwards (the browser tests share one database)."""
    device = NetworkPrinter()
    sign_in(page, *DEMO_ADMIN)
    page.goto("/config/outlets/REST/printer")
    page.select_option("#connection", "network")
    page.fill("#address", f"127.0.0.1:{device.port}")
    page.check("#auto_print")
    page.click("#save-printer")
    expect(page.locator("#remove-printer")).to_be_visible()
    yield device
    page.goto("/config/outlets/REST/printer")
    page.click("#remove-printer")
    device.close()


def card_of(page, name):
    page.goto(f"/cashier?outlet=REST&name={name}")
    return page.locator("#card dl.facts dd").first.inner_text().split()[0]


def test_swipe_to_printed_receipt_of_a_cash_bill_with_the_discount(page, printer, swipe, expect, capsys):
    card_no = card_of(page, GUEST)
    page.add_init_script(COUNTER)
    page.goto("/cashier?outlet=REST")
    loads = []
    page.on("load", lambda _: loads.append(page.url))

    swipe(page, card_no)
    expect(page.locator("#card h2")).to_have_text(GUEST)
    expect(page.locator("#amount")).to_be_focused()
    page.evaluate("window.lpsTill.keys = 0; window.lpsTill.clicks = 0;")  # the reader's keys are not counted
    loaded_at = page.evaluate("window.lpsTill.loadedAt")

    # The cashier: the amount, the rest in cash, settle. The receipt prints by itself.
    page.keyboard.type(AMOUNT)
    expect(page.locator("#due-total")).to_contain_text(DUE)
    page.keyboard.press("F4")
    expect(page.locator("#rest")).to_contain_text("0.00")
    bill_no = page.input_value("#bill_no")
    page.keyboard.press("F9")
    expect(page.locator("#charged")).to_contain_text(DUE)
    expect(page.locator("#thermal-print-status")).to_have_text("The receipt is printed.")
    deadline = time.monotonic() + 10
    while not any(bill_no.encode() in job for job in printer.jobs) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(printer.jobs) == 1 and bill_no.encode() in printer.jobs[0]

    counts = page.evaluate("window.lpsTill")
    page_loads = len(loads) + (counts["loadedAt"] != loaded_at)
    with capsys.disabled():
        print(f"\nswipe to printed receipt: {counts['keys']} keystrokes, {counts['clicks']} clicks, "
              f"{page_loads} page loads")
    assert counts["keys"] <= MAX_KEYSTROKES and counts["keys"] == len(AMOUNT) + 2
    assert counts["clicks"] == 0 and page_loads == 0

    # F2: the next guest, in place as well; the settlement is the bill's, with the discount.
    page.keyboard.press("F2")
    expect(page.locator("#card_no")).to_be_focused()
    expect(page.locator("#card_no")).to_have_value("")
    assert not loads


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 768}, {"width": 1280, "height": 800},
                                      {"width": 800, "height": 1280}], ids=["laptop", "tablet", "tablet-upright"])
def test_the_bill_settles_without_scrolling(page, sign_in, swipe, expect, viewport):
    sign_in(page, *DEMO_ADMIN)
    card_no = card_of(page, GUEST)
    page.set_viewport_size(viewport)
    page.goto("/cashier?outlet=REST")
    expect(page.locator("#key-legend")).to_be_visible()
    swipe(page, card_no)
    expect(page.locator("#amount")).to_be_focused()
    page.keyboard.type("120")
    page.keyboard.press("F4")
    expect(page.locator("#settle")).to_be_focused()
    box = page.locator("#settle").bounding_box()
    assert page.evaluate("window.scrollY") == 0
    assert box["y"] + box["height"] <= viewport["height"], f"Settle ends at {box['y'] + box['height']}"
    for figure in ("#amount", "#due-total", "#tender-0-amount"):
        assert page.locator(figure).evaluate("e => getComputedStyle(e).textAlign") in ("right", "end")


def test_enter_leads_through_the_bill_and_esc_clears_it(page, sign_in, swipe, expect):
    sign_in(page, *DEMO_ADMIN)
    card_no = card_of(page, GUEST)
    page.goto("/cashier?outlet=REST")
    swipe(page, card_no)
    expect(page.locator("#amount")).to_be_focused()
    page.keyboard.type("100")
    page.keyboard.press("Enter")  # to the first tender, with the rest to pay in it
    expect(page.locator("#tender-0-amount")).to_be_focused()
    expect(page.locator("#tender-0-amount")).to_have_value("90.00")
    page.keyboard.press("Enter")  # nothing left to pay: Settle
    expect(page.locator("#settle")).to_be_focused()
    page.keyboard.press("Escape")  # clears the bill, the card stays
    expect(page.locator("#amount")).to_have_value("")
    expect(page.locator("#tender-0-amount")).to_have_value("")
    expect(page.locator("#amount")).to_be_focused()
    page.keyboard.press("Escape")  # an empty bill: a new guest
    expect(page.locator("#card")).to_have_count(0)
    expect(page.locator("#card_no")).to_be_focused()


def test_a_refused_bill_stays_in_place_with_the_error_beside_the_field(page, sign_in, swipe, expect):
    sign_in(page, *DEMO_ADMIN)
    card_no = card_of(page, GUEST)
    page.goto("/cashier?outlet=REST")
    swipe(page, card_no)
    expect(page.locator("#amount")).to_be_focused()
    page.keyboard.type("100")
    page.select_option("#tender-0-kind", "cash")
    page.fill("#tender-0-amount", "50.00")
    page.keyboard.press("F9")
    expect(page.locator("#bill-box .error")).to_have_text("must add up to 90.00")
    expect(page.locator("#amount")).to_have_value("100")
    expect(page.locator("#tender-0-amount")).to_be_focused()


def test_the_screen_without_its_script_settles_by_the_form(browser, live_server, expect):
    context = browser.new_context(base_url=live_server, viewport={"width": 1366, "height": 768},
                                  java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/login")
        page.fill("input[name=username]", DEMO_ADMIN[0])
        page.fill("input[name=password]", DEMO_ADMIN[1])
        page.click("form.form button[type=submit]")
        card_no = card_of(page, GUEST)
        page.goto(f"/cashier?outlet=REST&card_no={card_no}")
        page.fill("#amount", "50.00")
        page.select_option("#tender-0-kind", "cash")
        page.fill("#tender-0-amount", "45.00")
        page.click("#settle")
        expect(page.locator(".flash")).to_contain_text("settled")
        expect(page.locator("#charged")).to_contain_text("45.00")
    finally:
        context.close()
