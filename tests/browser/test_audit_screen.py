"""The audit log in the browser: at a tablet's width (1024 px) the page never scrolls sideways,
even with long values in an entry, and the CSV export downloads the list."""
from lps_core.demo import DEMO_ADMIN

TABLET = {"width": 1024, "height": 768}
LONG_NOTE = "called back about the stay " + "x" * 300 + " and the invoice"


def test_the_audit_log_fits_a_tablet_and_exports_csv(page, sign_in, expect):
    sign_in(page, *DEMO_ADMIN)
    page.goto("/members")
    page.locator("table.results tbody tr a").first.click()
    page.fill("#contact-note", LONG_NOTE)
    page.click("#contact-add")
    page.wait_for_load_state()

    page.set_viewport_size(TABLET)
    page.goto("/audit?action=member.contact")
    expect(page.locator("table.audit tbody tr").first).to_contain_text("Contact logged")
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"the page scrolls sideways at 1024 px: {widths}"
    table = page.locator("table.audit").bounding_box()
    assert table["x"] >= 0 and table["x"] + table["width"] <= TABLET["width"]

    page.goto("/locale/zh_CN?next=/audit")  # Chinese texts are wider: still no sideways scrolling
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"the Chinese page scrolls sideways at 1024 px: {widths}"

    with page.expect_download() as download:
        page.click("#export")
    assert download.value.suggested_filename.startswith("audit-log-")
    text = open(download.value.path(), encoding="utf-8-sig").read()
    assert text.splitlines()[0].startswith("时间,操作人,") and "member.contact" in text
