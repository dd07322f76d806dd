"""Signing in through the real sign-in form: errors beside the form, success lands on the dashboard."""
from lps_core.demo import DEMO_ADMIN

ADMIN, PASSWORD = DEMO_ADMIN


def test_wrong_password_is_refused_beside_the_form(page, sign_in):
    sign_in(page, "hq-analyst", "not-the-password")

    assert page.url.endswith("/login")
    error = page.locator("form.form [role=alert]")
    assert error.is_visible()
    assert error.inner_text().strip()
    assert page.input_value("input[name=username]") == "hq-analyst"
    assert page.locator("form.signout").count() == 0
    dashboard = page.context.new_page()
    dashboard.goto("/")
    assert "/login" in dashboard.url, "a refused sign-in must not open the dashboard"
    dashboard.close()


def test_right_password_signs_in_and_out(page, sign_in):
    sign_in(page, ADMIN, PASSWORD)

    assert "/login" not in page.url
    assert page.locator("form.signout").is_visible()
    page.click("form.signout button")
    page.wait_for_url("**/login")
    page.goto("/")
    assert "/login" in page.url
