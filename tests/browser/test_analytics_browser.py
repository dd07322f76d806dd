"""The RFM screen in the browser: opened from the navigation, its chart drawn by the vendored
ECharts under the Content-Security-Policy with its quadrant table beneath, a quadrant opened as a
member list, and the XLSX export downloaded and opened with openpyxl showing the screen's figures;
a bad filter told beside its field."""
from openpyxl import load_workbook

from lps_core.demo import DEMO_ADMIN
from tests.browser.conftest import SCREENSHOTS


def test_the_rfm_screen_with_its_chart_quadrants_and_export(page, sign_in, expect, tmp_path):
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    sign_in(page, *DEMO_ADMIN)
    page.click("header nav a:text-is('Analytics')")
    page.click("#view-rfm a")
    expect(page.locator("#report-chart")).to_have_attribute("data-rendered", "true")
    expect(page.locator("#report-chart canvas")).to_have_count(1)
    scored = page.locator("#total-members dd").inner_text()
    expect(page.locator("#table-0 tfoot")).to_contain_text(scored)
    assert not [error for error in errors if "Content Security Policy" in error], errors

    page.click("#quadrant-keep")
    expect(page.locator("#quadrant-keep")).to_have_attribute("aria-current", "page")
    expect(page.locator("section.report-table h2").nth(2)).to_have_text("Important to keep")
    keep = page.locator("#total-members_keep dd").inner_text()
    assert page.locator("#table-2 tbody tr").count() == min(int(keep), 50)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "analytics-rfm.png"), full_page=True)

    with page.expect_download() as download:
        page.click("#export-xlsx")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name.startswith("rfm-") and path.suffix == ".xlsx"
    book = load_workbook(path)
    sheet = book["Totals"]
    labels, values = [cell.value for cell in sheet[sheet.max_row - 1]], [cell.value for cell in sheet[sheet.max_row]]
    totals = dict(zip(labels, values))
    assert str(totals["Members scored"]) == scored and str(totals["Important to keep"]) == keep
    assert len(book.sheetnames) == 4  # the totals, the quadrants, the scores and the quadrant's members

    page.select_option("#filter-period", "range")
    page.fill("#filter-from", "2026-11-05")
    page.fill("#filter-to", "2026-11-01")
    page.click("#report-filters button[type=submit]")
    expect(page.locator("#error-to")).to_contain_text("must not be before from")
