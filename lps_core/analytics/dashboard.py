"""The dashboard's figures over a date range (by default the last 30 days): per outlet, the bills
and net charged of the sales report; the trend of net charged, bills and new members per day (or
month); and the points liability of the points report. They are the reports' own figures
(lps_core.reports, lps_core.analytics), read through the reports session, so the dashboard and
the reports can never differ."""
from dataclasses import dataclass
from datetime import date, timedelta

from lps_core.analytics.members import new_members
from lps_core.analytics.schemas import AnalyticsFilters
from lps_core.exports import INTEGER
from lps_core.reports.catalogue import run_report
from lps_core.reports.report import Chart
from lps_core.reports.schemas import ReportFilters
from lps_core.reports.scope import resolve_scope
from lps_core.reports.texts import dgettext
from lps_core.validation import validate

DEFAULT_DAYS = 30


@dataclass(frozen=True)
class DashboardFigures:
    first_day: date
    last_day: date
    sales: object  # the sales Report
    liability: dict  # the points report's figures by key: outstanding, liability, breakage, net of breakage
    new_members: int
    chart: Chart
    outlets: list  # per outlet over the range: outlet, outlet_name, bills, net, refunds


def range_filters(raw: dict, today: date) -> ReportFilters:
    """The range of the dashboard's form (`from`, `to`); without them, the 30 days to today. A
    malformed date is the filters' 400 naming it (lps_core.validation); `to` before `from` is the
    scope's 422 naming `to`."""
    given = validate(ReportFilters, {"period": "range", **{key: raw[key] for key in ("from", "to") if raw.get(key)}})
    last = given.to or today
    return given.model_copy(update={"to": last, "from_": given.from_ or last - timedelta(days=DEFAULT_DAYS - 1)})


def dashboard_figures(db, filters: ReportFilters, tz, report_settings, analytics_settings, *, allowed=None,
                      today=None) -> DashboardFigures:
    sales = run_report(db, "sales", filters, tz, report_settings, allowed=allowed, today=today)
    points = run_report(db, "points", filters, tz, report_settings, allowed=allowed, today=today)
    scope = resolve_scope(db, filters, tz, allowed=allowed, today=today)
    members = new_members(db, scope, AnalyticsFilters.model_validate({"period": "range", "from": filters.from_,
                                                                       "to": filters.to}), analytics_settings)
    figures = {figure.key: figure for figure in points.figures}
    liability = {key: figures[key] for key in ("outstanding", "liability", "breakage", "liability_net_of_breakage")}
    joined = [*sales.chart.series, (dgettext("lps_analytics", "New members"),
                                    [sum(values) for values in zip(*[series[1] for series in members.chart.series])]
                                    or [0] * len(sales.chart.categories), "line", INTEGER)]
    chart = Chart(sales.chart.categories, joined, dgettext("lps_analytics", "Net charged, bills and new members"))
    total_new = next(figure.value for figure in members.figures if figure.key == "new_members")
    outlets = {}
    for row in sales.tables[0].rows:
        line = outlets.setdefault(row["outlet"], {"outlet": row["outlet"], "outlet_name": row["outlet_name"],
                                                  "bills": 0, "net": 0, "refunds": 0})
        for key in ("bills", "net", "refunds"):
            line[key] += row[key]
    return DashboardFigures(scope.first_day, scope.last_day, sales, liability, total_new, chart,
                            [outlets[code] for code in sorted(outlets)])
