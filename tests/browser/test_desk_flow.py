"""The desk's day in one test, through the real screens: enrol, approve, settle a bill with a card
swiped into the cashier's field (the quick bill, settled in place by its keys), earn points and print
the receipt, redeem a reward, read the ledger."""
import re

from lps_core.demo import DEMO_ADMIN

GUEST = "Wang Fang"
BILL = "400.00"  # at the restaurant (1 point per 2.00) a classic member earns 200 points
EARNED = 200
DRINK_POINTS = 150  # the harness's welcome drink


def test_enrol_approve_settle_redeem_and_read_the_ledger(page, sign_in, swipe, expect):
    sign_in(page, *DEMO_ADMIN)

    # Enrolment at the desk: the member waits for approval.
    page.click("header nav a:text-is('Enrol')")
    page.select_option("#outlet", "REST")
    page.fill("#name", GUEST)
    page.fill("#phone", "+8613912345678")
    page.fill("#email", "wang.fang@example.com")
    page.click("#enrol")
    expect(page.locator(".flash")).to_contain_text("waits for approval")
    member_url = page.url
    assert re.search(r"/members/\d+$", member_url)

    # The approval queue: approve with a standard card from the pool.
    page.click("header nav a:text-is('Approvals')")
    pending = page.locator("table.approvals tbody tr", has_text=GUEST)
    pending.locator("select[name=card_type]").select_option("standard")
    pending.locator("button[id^=approve-]").click()
    expect(page.locator(".flash")).to_contain_text("approved")
    expect(page.locator("table.approvals tbody tr", has_text=GUEST)).to_have_count(0)
    page.goto(member_url)
    card_no = page.locator("#cards tbody tr td").first.inner_text().strip()
    assert re.fullmatch(r"\d{8,}", card_no)

    # The cashier's screen: the card field has the focus, and a keyboard-wedge reader "types" the
    # number followed by Enter.
    page.goto("/cashier?outlet=REST")
    swipe(page, card_no)
    expect(page.locator("#card h2")).to_have_text(GUEST)
    expect(page.locator("#balance-points")).to_have_text("0")

    # The quick bill: the amount (it has the focus), the rest in cash (F4), settled in place (F9).
    expect(page.locator("#amount")).to_be_focused()
    page.keyboard.type(BILL)
    expect(page.locator("#due-total")).to_contain_text(BILL)  # a classic card: no discount
    page.keyboard.press("F4")
    expect(page.locator("#tender-0-kind")).to_have_value("cash")
    expect(page.locator("#tender-0-amount")).to_have_value(BILL)
    bill_no = page.input_value("#bill_no")
    page.keyboard.press("F9")
    expect(page.locator("#settled .flash")).to_contain_text("settled")
    expect(page.locator("#points-earned")).to_have_text(str(EARNED))
    expect(page.locator("#balances-after")).to_contain_text(str(EARNED))

    # The receipt opens in a page of its own, ready to print.
    with page.context.expect_page() as opened:
        page.click("#print-receipt")
    receipt = opened.value
    receipt.wait_for_load_state()
    expect(receipt.locator("body")).to_contain_text(bill_no)
    expect(receipt.locator("td.member")).to_have_text(GUEST)
    expect(receipt.locator(".points")).to_contain_text(str(EARNED))
    receipt.close()

    # Redemption at the rewards desk, with the card swiped again.
    page.click("header nav a:text-is('Rewards')")
    page.click("a:text-is('REST · Jade Garden Restaurant')")
    swipe(page, card_no)
    expect(page.locator("#member-name")).to_have_text(GUEST)
    expect(page.locator("#points-balance")).to_have_text(str(EARNED))
    drink = page.locator("#redeem-WELCOME")
    drink.locator("select[name=collection]").select_option("now")
    drink.locator("button").click()
    expect(page.locator(".flash")).to_contain_text("redeemed")
    expect(page.locator("#points-balance")).to_have_text(str(EARNED - DRINK_POINTS))
    expect(page.locator("#redemptions tbody tr")).to_have_count(1)
    expect(page.locator("#redemptions")).to_contain_text("Welcome drink")

    # The member's page: the ledger shows the earning and the redemption.
    page.goto(member_url)
    ledger = page.locator("#ledger tbody")
    expect(ledger.locator("tr")).to_have_count(2)
    expect(ledger.locator("tr", has_text="earned")).to_contain_text(str(EARNED))
    expect(ledger.locator("tr", has_text="redemption")).to_contain_text(f"-{DRINK_POINTS}")
    expect(ledger.locator("tr", has_text="redemption")).to_contain_text(str(EARNED - DRINK_POINTS))
