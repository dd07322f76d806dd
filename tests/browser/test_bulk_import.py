"""The data exchange screen in the browser: a file is uploaded and previewed, a conflict resolved,
and after confirm the page's script (under the Content-Security-Policy) applies the import chunk by
chunk and moves the progress bar, with no click on Continue."""
from lps_core.demo import DEMO_ADMIN

MEMBERS = ("name,phone,email\nBrowser One,13900009901,one@example.com\nBrowser Two,13900009902,\n"
           "Browser Two Again,13900009902,\n").encode()


def test_upload_resolve_confirm_and_watch_the_progress_bar(page, sign_in, expect, tmp_path):
    sign_in(page, *DEMO_ADMIN)
    page.goto("/bulk")
    path = tmp_path / "members.csv"
    path.write_bytes(MEMBERS)
    page.select_option("#kind", "members")
    page.set_input_files("#file", str(path))
    page.click("#upload-button")
    page.wait_for_load_state()
    expect(page.locator("#filter-conflict")).to_contain_text("(2)")
    expect(page.locator("#row-2")).to_contain_text("Browser One")
    page.select_option("#resolution-4", "apply")
    page.click("#resolve-4")
    page.wait_for_load_state()
    expect(page.locator("#row-3 .resolution")).to_have_text("skip")
    page.click("#confirm")
    expect(page.locator(".status-applied")).to_be_visible()
    expect(page.locator("#progress")).to_have_attribute("value", "100")
    expect(page.locator("#progress-text")).to_have_text("2 / 2")
    expect(page.locator("#apply-form")).to_have_count(0)
