"""A catalogue of Reports as staff screens, written once for the report screens and the analytics
screens: the page of one name reads its filters through the screen's schema (a bad one is shown
beside its field), runs the name within the operator's outlets, translates the labels for the
operator's language, and either draws the Report or writes it as CSV or XLSX (`format`), so the
screen and its exports show the same figures."""
import json

from pyramid.httpexceptions import HTTPNotFound

from lps_core.errors import LpsError
from lps_core.reports.report import report_download
from lps_core.reports.texts import translated
from lps_core.screens.shared import form_errors, outlets_in_scope
from lps_core.screens.shell.security import outlet_scope
from lps_core.validation import validate


def catalogue_page(request, *, names, titles, filters, runner, extras):
    """The page of the name in the route's `{name}` (404 if not one of `names`), or its download.
    `filters` is the screen's schema; `runner(request, name, filters, allowed=, export=)` builds the
    Report; `extras(request, name, form)` adds what the screen's own template needs to the shared values."""
    name = request.matchdict["name"]
    if name not in names:
        raise HTTPNotFound()
    raw = {key: value for key, value in request.GET.items() if value.strip()}
    errors, report = {}, None
    try:
        chosen = validate(filters, raw)
        report = runner(request, name, chosen, allowed=outlet_scope(request), export=chosen.format != "json")
    except LpsError as exc:
        request.response.status = exc.status
        errors = form_errors(exc.fields) or {"form": exc.message}
    if report is not None:
        report = translated(report, request.localizer.translate)  # the exports too
        if chosen.format != "json":
            return report_download(report, chosen.format, name)
    return {"name": name, "title": titles[name], "report": report, "errors": errors, "form": raw,
            "outlets": outlets_in_scope(request), "chart_json": chart_json(report),
            "cell": lambda value, kind: cell(request, value, kind),
            "export_url": lambda format_: request.current_route_url(_query={**raw, "format": format_}),
            "page_url": lambda page: request.current_route_url(_query={**raw, "page": str(page)}),
            **extras(request, name, raw)}


def chart_json(report) -> str | None:
    """The chart as JSON for a <script type="application/json"> block: `<` escaped, so no text in it
    (an outlet's name) can close the block."""
    if report is None or report.chart is None:
        return None
    return json.dumps(report.as_json()["chart"], ensure_ascii=False).replace("<", "\\u003c")


def cell(request, value, kind) -> str:
    """A figure as the operator's locale writes it: money with its currency, counts and ratios as numbers."""
    if value is None:
        return ""
    fmt = request.fmt
    if kind == "money":
        return fmt.money(value)
    if kind in ("integer", "ratio"):
        return fmt.number(value)
    return str(value)


