"""The appeals queue in the browser: an appeal opened from the member page, found by the queue's
search, rejected with a reason, and found again among the rejected ones; the form's errors beside
their fields."""
from datetime import date, timedelta

from lps_core.demo import DEMO_ADMIN


def open_member(page, name):
    page.click("header nav a:text-is('Members')")
    page.fill("#name", name)
    page.click("#search")
    page.locator("table.results tbody tr", has_text=name).locator("a").first.click()


def test_search_and_reject_in_the_queue(page, sign_in, expect):
    sign_in(page, *DEMO_ADMIN)
    open_member(page, "Li Wei")
    page.click("#open-appeal")
    page.select_option("#outlet", "REST")
    page.fill("#bill_no", "JG-0999")
    page.fill("#bill_date", (date.today() - timedelta(days=2)).isoformat())
    page.fill("#amount", "12.3.4")
    page.click("#file-appeal")
    expect(page.locator("#amount")).to_have_attribute("aria-invalid", "true")
    page.fill("#amount", "120.00")
    page.click("#file-appeal")
    expect(page.locator(".flash")).to_contain_text("filed")

    page.click("header nav a:text-is('Appeals')")
    page.fill("#search-bill_no", "JG-0999")
    page.click("#appeal-search button[type=submit]")
    row = page.locator("#appeals tbody tr", has_text="JG-0999")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("due")
    row.locator("a").first.click()
    page.fill("#reason", "No bill JG-0999 in the restaurant's records")
    page.click("#reject")
    expect(page.locator(".flash")).to_contain_text("rejected")
    expect(page.locator("#answer")).to_contain_text("No bill JG-0999")

    page.click("header nav a:text-is('Appeals')")
    expect(page.locator("#appeals tbody tr", has_text="JG-0999")).to_have_count(0)  # the queue: open ones
    page.select_option("#search-status", "rejected")
    page.click("#appeal-search button[type=submit]")
    expect(page.locator("#appeals tbody tr", has_text="JG-0999")).to_have_count(1)
