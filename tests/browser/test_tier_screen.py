"""The tiers screen in the browser: an HQ administrator adds an all-of tier above the top one, moves
it down and up again, and retires it, which asks for a ticked confirmation first."""
from lps_core.demo import DEMO_ADMIN

ADMIN, PASSWORD = DEMO_ADMIN


def order(page):
    return page.locator("table:not(#retired-tiers) tbody tr td:nth-child(2)").all_inner_texts()


def test_add_move_and_retire_a_tier(page, sign_in):
    sign_in(page, ADMIN, PASSWORD)
    page.goto("/config/tiers")
    page.click("#new-tier")
    page.fill("#code", "ambassador")
    page.select_option("#above", "diamond")
    page.fill("#name", "Ambassador")
    page.fill("#multiplier", "2.5")
    page.fill("#q_nights", "100")
    page.fill("#q_spend", "23000.00")
    page.check("#mode-all")
    page.click("#create-tier")
    page.wait_for_load_state()
    assert "Tier created." in page.inner_text("body")
    assert page.is_checked("#mode-all")

    page.goto("/config/tiers")
    assert order(page)[-2:] == ["diamond", "ambassador"]
    assert "all of:" in page.locator("tr", has_text="ambassador").inner_text()
    page.click("#down-ambassador")
    page.wait_for_load_state()
    assert order(page)[-2:] == ["ambassador", "diamond"]
    page.click("#up-ambassador")
    page.wait_for_load_state()
    assert order(page)[-2:] == ["diamond", "ambassador"]

    page.goto("/config/tiers/ambassador")
    assert "When it is retired they move to Diamond" in page.inner_text("#retire-tier")
    page.click("#retire")  # the box is not ticked: the browser keeps the form
    assert page.url.endswith("/config/tiers/ambassador")
    page.check("#confirm-retire")
    page.click("#retire")
    page.wait_for_load_state()
    assert "Tier ambassador retired: 0 members moved to diamond." in page.inner_text("body")
    assert "ambassador" not in order(page)
    assert "ambassador" in page.inner_text("#retired-tiers")
