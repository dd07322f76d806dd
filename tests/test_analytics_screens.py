"""The analytics screens: reports.view only, the navigation entry, each view's totals, chart data
and tables, the RFM quadrants opening as member lists linked to the member page, a bad filter
beside its field, and the XLSX export showing the screen's figures."""
import io
import json
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from lps_core.analytics.catalogue import VIEWS
from lps_core.testing import sign_in_as
from tests.test_analytics import world  # noqa: F401 (the known set of members)

PASSWORD = "a-long-password-1"


def test_only_reports_view_opens_them(testapp, seed):
    sign_in_as(testapp, seed, "cashier1", PASSWORD, ["cashier"], ["REST"])
    testapp.get("/analytics", status=403)
    testapp.get("/analytics/rfm", status=403)


@pytest.mark.parametrize("name", VIEWS)
def test_every_view_draws_its_chart_and_tables(testapp, seed, world, name):  # noqa: F811
    sign_in_as(testapp, seed, "analyst", PASSWORD, ["hq_analyst"], [])
    page = testapp.get(f"/analytics/{name}")
    assert page.html.select_one("#report-chart-data") is not None
    json.loads(page.html.select_one("#report-chart-data").text)
    assert page.html.select_one("#table-0") is not None
    assert "echarts/echarts.min.js" in page.text and page.html.select_one("#export-xlsx") is not None


def test_the_rfm_quadrant_opens_as_a_member_list(testapp, seed, world):  # noqa: F811
    sign_in_as(testapp, seed, "analyst", PASSWORD, ["hq_analyst"], [])
    assert 'href="http://localhost/analytics"' in testapp.get("/").text  # the navigation entry
    page = testapp.get("/analytics/rfm")
    assert page.html.select_one("#total-members_keep dd").text.strip() == "3"
    listed = testapp.get(page.html.select_one("#quadrant-retain")["href"])
    links = listed.html.select("#table-2 a.member-link")
    assert [link.text for link in links] == [str(world["ids"][i]) for i in (9, 8, 7)]
    assert links[0]["href"] == f"http://localhost/members/{world['ids'][9]}"
    testapp.get(links[0]["href"])  # the member page opens
    book = load_workbook(io.BytesIO(testapp.get(listed.html.select_one("#export-xlsx")["href"]).body))
    names = [cell for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for cell in row]
    assert {"M9", "M8", "M7"} <= set(names)


def test_an_operator_sees_only_their_outlets(testapp, seed, world):  # noqa: F811
    sign_in_as(testapp, seed, "spamanager", PASSWORD, ["finance_auditor"], ["SPA"])
    page = testapp.get("/analytics/new-members")
    assert page.html.select_one("#total-new_members dd").text.strip() == "4"


def test_a_bad_filter_is_told_beside_its_field(testapp, seed):
    sign_in_as(testapp, seed, "analyst", PASSWORD, ["hq_analyst"], [])
    page = testapp.get("/analytics/rfm", {"quadrant": "gold"}, status=400)
    assert page.html.select_one("#error-quadrant") is not None
    page = testapp.get("/analytics/lifecycle", {"outlet": "NOPE"}, status=422)
    assert "is not a known outlet" in page.html.select_one("#error-outlet").text
    testapp.get("/analytics/nothing", status=404)


def test_the_dashboard_shows_the_range_outlets_trend_and_liability(testapp, seed, world):  # noqa: F811
    sign_in_as(testapp, seed, "analyst", PASSWORD, ["hq_analyst"], [])
    page = testapp.get("/")
    assert page.html.select_one("#figures-from")["value"] and page.html.select_one("#figure-liability") is not None
    chart = json.loads(page.html.select_one("#report-chart-data").text)
    assert len(chart["categories"]) == 30 and len(chart["series"]) == 3
    # M1 (30 days ago) falls in the default 30 days or just before it; the last 60 days hold M1 and M2
    wide = testapp.get("/", {"from": (world["now"].date() - timedelta(days=65)).isoformat()})
    assert wide.html.select_one("#figure-new_members dd").text.strip() == "2"
    bad = testapp.get("/", {"to": "yesterday"}, status=400)
    assert bad.html.select_one("#figures-error-to") is not None
    reversed_range = testapp.get("/", {"from": "2026-11-05", "to": "2026-11-01"}, status=422)
    assert reversed_range.html.select_one("#figures-error-to") is not None


def test_in_chinese_the_quadrants_and_their_columns_are_translated(testapp, seed, world):  # noqa: F811
    """Words among a table's cells (a quadrant's name) are translated with its labels, on the
    screen and in the export made from it."""
    sign_in_as(testapp, seed, "analyst", PASSWORD, ["hq_analyst"], [])
    testapp.set_cookie("_LOCALE_", "zh_CN")
    page = testapp.get("/analytics/rfm")
    table = page.html.select_one("#table-0")
    assert "会员数" in table.select_one("thead").text
    cells = [cell.text.strip() for cell in table.select("tbody td")]
    assert "重要保持" in cells and "Important to keep" not in cells
    categories = json.loads(page.html.select_one("#report-chart-data").text)
    assert "重要保持" in json.dumps(categories, ensure_ascii=False)
    book = load_workbook(io.BytesIO(testapp.get(page.html.select_one("#export-xlsx")["href"]).body))
    values = {cell for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for cell in row}
    assert "重要保持" in values


def test_the_screen_names_the_nightly_scoring_it_reads(testapp, seed, world):  # noqa: F811
    from zoneinfo import ZoneInfo

    from lps_core.analytics.scoring import score
    from lps_core.analytics.settings import AnalyticsSettings
    from lps_core.timeutil import utcnow

    tz = ZoneInfo("Asia/Shanghai")
    now = utcnow()
    as_of = now.astimezone(tz).date() - timedelta(days=1)
    score(seed.db, as_of, tz, AnalyticsSettings(), now=now)
    seed.db.commit()
    sign_in_as(testapp, seed, "analyst", PASSWORD, ["hq_analyst"], [])
    testapp.set_cookie("_LOCALE_", "zh_CN")
    page = testapp.get("/analytics/rfm")
    assert f"以下为截至 {as_of.isoformat()} 的夜间评分结果" in page.text
    assert page.html.select_one("#total-members_keep dd").text.strip() == "3"
    listed = testapp.get(page.html.select_one("#quadrant-retain")["href"])
    assert [link.text for link in listed.html.select("#table-2 a.member-link")] == [
        str(world["ids"][i]) for i in (9, 8, 7)]
    book = load_workbook(io.BytesIO(testapp.get(page.html.select_one("#export-xlsx")["href"]).body))
    values = {cell for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for cell in row}
    assert any(f"以下为截至 {as_of.isoformat()}" in str(value) for value in values)
