"""A report in the browser: opened from the navigation, filtered, its chart drawn by the vendored
ECharts under the Content-Security-Policy, its table beneath, and its XLSX export downloaded and
opened with openpyxl showing the screen's totals; a bad filter told beside its field."""
from datetime import date

from openpyxl import load_workbook

from lps_core.demo import DEMO_ADMIN
from tests.browser.conftest import SCREENSHOTS


def test_a_report_with_its_chart_and_xlsx_export(page, sign_in, expect, tmp_path):
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    sign_in(page, *DEMO_ADMIN)
    page.click("header nav a:text-is('Reports')")
    page.click("#report-stored-value a")
    page.select_option("#filter-period", "month")
    page.fill("#filter-date", date.today().isoformat()[:7])
    page.click("#report-filters button[type=submit]")
    expect(page.locator("#report-chart")).to_have_attribute("data-rendered", "true")
    expect(page.locator("#report-chart canvas")).to_have_count(1)
    deposits = page.locator("#total-deposits dd").inner_text()
    float_end = page.locator("#total-float dd").inner_text()
    expect(page.locator("#table-0 tfoot")).to_contain_text(deposits)
    assert not [error for error in errors if "Content Security Policy" in error], errors
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "report-stored-value.png"), full_page=True)

    with page.expect_download() as download:
        page.click("#export-xlsx")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name.startswith("stored-value-") and path.suffix == ".xlsx"
    sheet = load_workbook(path)["Totals"]
    labels, values = [cell.value for cell in sheet[sheet.max_row - 1]], [cell.value for cell in sheet[sheet.max_row]]
    totals = dict(zip(labels, values))
    assert f"{totals['Deposits']:,.2f}" in deposits and f"{totals['Float at the end']:,.2f}" in float_end

    page.select_option("#filter-period", "range")
    page.fill("#filter-from", "2026-11-05")
    page.fill("#filter-to", "2026-11-01")
    page.click("#report-filters button[type=submit]")
    expect(page.locator("#error-to")).to_contain_text("must not be before from")
    expect(page.locator("#filter-to")).to_have_attribute("aria-invalid", "true")
