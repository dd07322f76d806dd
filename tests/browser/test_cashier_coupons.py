"""The member's coupons on the cashier's screen, measured in Chromium: after the swipe a coupon is
applied with one key (Alt+1: a coupon tender line, the rest in the default tender) and the bill is
settled in at most six keystrokes; a points multiplier chosen with its key is applied to the bill
right after the settlement, its extra points shown in place. The coupons are issued on the staff
coupons screen, as head office would."""
import pytest

from lps_core.demo import DEMO_ADMIN
from tests.browser.test_cashier_till import COUNTER, MAX_KEYSTROKES, card_of

GUEST = "Li Wei"  # gold: 10 % off at the restaurant


def issue(page, expect, card_no, code, kind, **values):
    page.goto("/coupons")
    page.fill("#ct-code", code)
    page.fill("#ct-name", f"{code} at the desk")
    page.select_option("#ct-kind", kind)
    for name, value in {"valid_days": "30", **values}.items():
        page.fill(f"#ct-{name}", value)
    page.check("#coupon-type-form input[name=active]")
    page.click("#coupon-type-form button[type=submit]")
    expect(page.locator("#coupon-types")).to_contain_text(code)
    page.select_option("#ci-type", code)
    page.fill("#ci-card", card_no)
    page.click("#coupon-issue-form button[type=submit]")


@pytest.fixture
def guest(page, sign_in, expect):
    sign_in(page, *DEMO_ADMIN)
    return card_of(page, GUEST)


def test_a_coupon_applied_with_one_key_and_settled(page, guest, swipe, expect, capsys):
    issue(page, expect, guest, "DESK20", "amount", value="20.00")
    page.add_init_script(COUNTER)
    page.goto("/cashier?outlet=REST")
    swipe(page, guest)
    offer = page.locator("#offers li.offer", has_text="DESK20 at the desk")
    expect(offer).to_have_count(1)
    key = offer.locator("button").get_attribute("data-key")
    code = offer.get_attribute("data-code")
    page.evaluate("window.lpsTill.keys = 0; window.lpsTill.clicks = 0;")

    page.keyboard.type("200")  # 180.00 due
    expect(page.locator("#due-total")).to_contain_text("180.00")
    page.keyboard.press(key)
    expect(page.locator("#tender-0-kind")).to_have_value("coupon")
    expect(page.locator("#tender-0-amount")).to_have_value("20.00")
    expect(page.locator("#tender-0-reference")).to_have_value(code)
    expect(page.locator("#tender-1-amount")).to_have_value("160.00")  # the rest, in the default tender
    expect(page.locator("#rest")).to_contain_text("0.00")
    page.keyboard.press("F9")
    expect(page.locator("#charged")).to_contain_text("180.00")

    counts = page.evaluate("window.lpsTill")
    with capsys.disabled():
        print(f"\nswipe to a settled bill with a coupon: {counts['keys']} keystrokes, {counts['clicks']} clicks")
    assert counts["keys"] <= MAX_KEYSTROKES and counts["clicks"] == 0

    # Used once: the next look-up of the guest no longer offers it.
    page.keyboard.press("F2")
    swipe(page, guest)
    expect(page.locator("#card h2")).to_have_text(GUEST)
    expect(page.locator("#offers li.offer", has_text="DESK20 at the desk")).to_have_count(0)


def test_a_multiplier_is_applied_right_after_the_settlement(page, guest, swipe, expect):
    issue(page, expect, guest, "DESKX2", "multiplier", multiplier="2")
    page.goto("/cashier?outlet=REST")
    swipe(page, guest)
    offer = page.locator("#offers li.offer", has_text="DESKX2 at the desk")
    expect(offer).to_have_count(1)
    code = offer.get_attribute("data-code")
    page.keyboard.type("100")
    page.keyboard.press(offer.locator("button").get_attribute("data-key"))
    expect(offer.locator("button")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("F4")
    page.keyboard.press("F9")
    expect(page.locator("#charged")).to_contain_text("90.00")
    earned = page.locator("#points-earned").inner_text()
    assert int(earned.replace(",", "")) > 0
    expect(page.locator("#coupon-points")).to_have_text(f"Coupon {code}: {earned} extra points.")


def test_alt_0_puts_the_rest_on_a_voucher_line_for_its_code(page, guest, swipe, expect):
    page.goto("/cashier?outlet=REST")
    swipe(page, guest)
    expect(page.locator("#amount")).to_be_focused()
    page.keyboard.type("100")  # 90.00 due
    expect(page.locator("#due-total")).to_contain_text("90.00")
    page.keyboard.press("Alt+0")
    expect(page.locator("#tender-0-kind")).to_have_value("voucher")
    expect(page.locator("#tender-0-amount")).to_have_value("90.00")
    expect(page.locator("#tender-0-reference")).to_be_focused()
    page.keyboard.type("NO-SUCH-VOUCHER")
    page.keyboard.press("F9")  # refused beside the line, in place
    expect(page.locator("#tenders tr.line .error").first).to_be_visible()
    expect(page.locator("#tender-0-reference")).to_have_value("NO-SUCH-VOUCHER")
