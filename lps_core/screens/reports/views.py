"""Report screens. The filters are read through lps_core.reports.schemas (a bad one is shown
beside its field with a 400), the report runs on the reports session within the operator's
outlets, and the same Report is drawn on the page or written as CSV or XLSX (`format`), so the
screen and its exports show the same figures. Labels are translated for the operator's language,
in the exports too."""
import json

from pyramid.httpexceptions import HTTPNotFound
from pyramid.response import Response
from pyramid.view import view_config

from lps_core.errors import LpsError
from lps_core.exports import CSV_TYPE, XLSX_TYPE, attachment_name
from lps_core.operators.permissions import Permission
from lps_core.outlets.models import Property
from lps_core.reports.catalogue import REPORTS, run_report
from lps_core.reports.schemas import GRAINS, PERIODS, TRANSACTION_KINDS, ScreenFilters
from lps_core.reports.settings import ReportSettings
from lps_core.reports.texts import translated
from lps_core.screens.shared import dgettext, form_errors, outlets_in_scope
from lps_core.screens.shell.security import outlet_scope
from lps_core.validation import validate

TEMPLATES = "lps_core.screens.reports:templates/"
TITLES = {
    "sales": dgettext("lps_reports", "Sales"),
    "points": dgettext("lps_reports", "Points"),
    "stored-value": dgettext("lps_reports", "Stored value"),
    "credit": dgettext("lps_reports", "Credit"),
    "transactions": dgettext("lps_reports", "Transactions"),
    "products": dgettext("lps_reports", "Products"),
}
DESCRIPTIONS = {
    "sales": dgettext("lps_reports", "Per outlet per day or month: gross, discount, net, bills, average bill, "
                                     "tenders and refunds."),
    "points": dgettext("lps_reports", "Issued, reversed, redeemed, expired and outstanding points; the liability "
                                      "and breakage; by outlet and tier."),
    "stored-value": dgettext("lps_reports", "Deposits, bonus value, spend, refunds and the float."),
    "credit": dgettext("lps_reports", "Charged, repaid, owed and overdue."),
    "transactions": dgettext("lps_reports", "Every settlement, bill, refund and redemption, searched and exported."),
    "products": dgettext("lps_reports", "Product and category sales from the bills' items."),
}


@view_config(route_name="reports", renderer=TEMPLATES + "index.pt", permission=Permission.REPORTS_VIEW)
def index(request):
    return {"reports": [(name, TITLES[name], DESCRIPTIONS[name]) for name in REPORTS]}


@view_config(route_name="reports.view", renderer=TEMPLATES + "report.pt", permission=Permission.REPORTS_VIEW)
def report_view(request):
    name = request.matchdict["name"]
    if name not in REPORTS:
        raise HTTPNotFound()
    raw = {key: value for key, value in request.GET.items() if value.strip()}
    errors, report = {}, None
    try:
        filters = validate(ScreenFilters, raw)
        report = run_report(request.dbsession, name, filters, request.programme.timezone,
                            ReportSettings.from_mapping(request.registry.settings), allowed=outlet_scope(request),
                            export=filters.format != "json")
    except LpsError as exc:
        request.response.status = exc.status
        errors = form_errors(exc.fields) or {"form": exc.message}
    if report is not None:
        report = translated(report, request.localizer.translate)
        if filters.format != "json":
            return _download(report, filters.format, name)
    db = request.dbsession
    return {"name": name, "title": TITLES[name], "report": report, "errors": errors, "form": raw,
            "periods": PERIODS, "grains": GRAINS, "kinds": TRANSACTION_KINDS,
            "outlets": outlets_in_scope(request),
            "properties": db.execute(Property.__table__.select().order_by(Property.code)).all(),
            "chart_json": _chart_json(report),
            "cell": lambda value, kind: _cell(request, value, kind),
            "export_url": lambda format_: request.current_route_url(_query={**raw, "format": format_}),
            "page_url": lambda page: request.current_route_url(_query={**raw, "page": str(page)})}


def _chart_json(report) -> str | None:
    """The chart as JSON for a <script type="application/json"> block: `<` escaped, so no text in it
    (an outlet's name) can close the block."""
    if report is None or report.chart is None:
        return None
    return json.dumps(report.as_json()["chart"], ensure_ascii=False).replace("<", "\\u003c")


def _cell(request, value, kind) -> str:
    """A figure as the operator's locale writes it: money with its currency, counts and ratios as numbers."""
    if value is None:
        return ""
    fmt = request.fmt
    if kind == "money":
        return fmt.money(value)
    if kind in ("integer", "ratio"):
        return fmt.number(value)
    return str(value)


def _download(report, format_, name):
    scope = report.scope
    body, content_type = (report.as_csv(), CSV_TYPE) if format_ == "csv" else (report.as_xlsx(), XLSX_TYPE)
    response = Response(body=body, content_type=content_type)
    stem = f"{name}-{scope.first_day.isoformat()}-{scope.last_day.isoformat()}"
    response.headers["Content-Disposition"] = f'attachment; filename="{attachment_name(stem, format_)}"'
    return response
