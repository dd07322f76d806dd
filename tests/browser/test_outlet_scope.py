"""Outlet scope in the browser: the demo cashier of the restaurant (REST) may not use the spa's till."""
from lps_core.demo import DEMO_ADMIN

PASSWORD = DEMO_ADMIN[1]


def test_cashier_of_one_outlet_is_refused_at_another(page, sign_in):
    sign_in(page, "cashier", PASSWORD)

    own = page.goto("/cashier?outlet=REST")
    assert own.status == 200
    assert page.locator("#card_no").is_visible()

    other = page.goto("/cashier?outlet=SPA")
    assert other.status == 403
    assert page.locator("#card_no").count() == 0
    assert page.locator("main h2").inner_text() == "Not allowed"
