"""The report screens: reports.view only, the operator's outlets only, totals, chart data and
tables, a bad filter beside its field with a 400, and exports (CSV with a BOM, XLSX opened with
openpyxl) that show the screen's figures, with the labels in the operator's language."""
import csv
import io
import json
import re
from datetime import timedelta

from openpyxl import load_workbook

from lps_core.testing import sign_in_as
from lps_core.timeutil import utcnow
from tests.test_reports import postings  # noqa: F401 (the known set of postings)

PASSWORD = "a-long-password-1"


def period():
    return {"period": "range", "from": (utcnow() - timedelta(days=10)).date().isoformat(),
            "to": (utcnow() + timedelta(days=1)).date().isoformat()}


def test_only_reports_view_opens_them(testapp, seed):
    sign_in_as(testapp, seed, "cashier1", PASSWORD, ["cashier"], ["REST"])
    testapp.get("/reports", status=403)
    testapp.get("/reports/sales", status=403)


def test_the_sales_screen_shows_totals_chart_and_table(testapp, seed, postings):  # noqa: F811
    sign_in_as(testapp, seed, "analyst", PASSWORD, ["hq_analyst"], [])
    index = testapp.get("/reports")
    assert 'href="http://localhost/reports/points"' in index.text
    assert 'href="http://localhost/reports"' in testapp.get("/").text  # the navigation entry
    page = testapp.get("/reports/sales", period())
    assert page.html.select_one("#total-net dd").text.strip().endswith("675.00")
    assert page.html.select_one("#total-bills dd").text.strip() == "4"
    chart = json.loads(page.html.select_one("#report-chart-data").text)
    assert sum(float(value) for value in chart["series"][0]["data"]) == 675.0
    assert [row.select("td")[1].text for row in page.html.select("#table-0 tbody tr")] == ["REST", "SPA"]
    assert "echarts/echarts.min.js" in page.text and "reports.js" in page.text
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")


def test_a_bad_filter_is_told_beside_its_field(testapp, seed):
    sign_in_as(testapp, seed, "analyst", PASSWORD, ["hq_analyst"], [])
    page = testapp.get("/reports/sales", {"period": "range", "from": "2026-11-05"}, status=422)
    assert page.html.select_one("#error-to") is not None
    assert page.html.select_one("#filter-to")["aria-invalid"] == "true"
    page = testapp.get("/reports/sales", {"outlet": "NOPE"}, status=422)
    assert "is not a known outlet" in page.html.select_one("#error-outlet").text
    page = testapp.get("/reports/sales", {"period": "week"}, status=400)
    assert page.html.select_one("#error-period") is not None
    testapp.get("/reports/nothing", status=404)


def test_an_operator_sees_only_their_outlets(testapp, seed, postings):  # noqa: F811
    sign_in_as(testapp, seed, "spamanager", PASSWORD, ["finance_auditor"], ["SPA"])
    page = testapp.get("/reports/sales", period())
    assert page.html.select_one("#total-net dd").text.strip().endswith("300.00")
    testapp.get("/reports/sales", {**period(), "outlet": "REST"}, status=422)


def test_exports_show_the_screens_figures(testapp, seed, postings):  # noqa: F811
    sign_in_as(testapp, seed, "analyst", PASSWORD, ["hq_analyst"], [])
    page = testapp.get("/reports/points", period())
    csv_link = page.html.select_one("#export-csv")["href"]
    answer = testapp.get(csv_link)
    assert answer.content_type == "text/csv" and answer.body.startswith("\ufeff".encode())
    assert re.match(r'attachment; filename="points-[0-9-]+\.csv"', answer.headers["Content-Disposition"])
    rows = list(csv.reader(io.StringIO(answer.body.decode("utf-8-sig"))))
    header = next(index for index, row in enumerate(rows) if "Outstanding at the end" in row)
    totals = dict(zip(rows[header], rows[header + 1]))
    assert (totals["Outstanding at the end"], totals["Liability"], totals["Breakage"]) == ("345", "3.45", "0.3750")
    book = load_workbook(io.BytesIO(testapp.get(page.html.select_one("#export-xlsx")["href"]).body))
    sheet = book["Totals"]
    values = dict(zip([cell.value for cell in sheet[sheet.max_row - 1]], [cell.value for cell in sheet[sheet.max_row]]))
    assert values["Outstanding at the end"] == 345 and str(values["Liability"]) == "3.45"
    assert book["By tier"] is not None and book["By outlet"] is not None
    chinese = testapp.get(csv_link, headers={"Accept-Language": "zh-CN"})
    assert chinese.body.startswith("\ufeff".encode()) and "期末未兑积分" in chinese.body.decode("utf-8-sig")
    page = testapp.get("/reports/points", period(), headers={"Accept-Language": "zh-CN"})
    assert page.html.select_one("#total-liability dt").text == "负债" and "报表" in page.text
