"""Reports API (scope reports): GET /api/v1/reports/<name> for each report of
lps_core.reports.catalogue, as JSON, CSV (UTF-8 with a BOM) or XLSX by `format`. Thin: read the
filters through the operation's schema, run the report on the reports session, shape the answer.

A key with the reports scope reads the whole programme's figures, whichever outlet it belongs to:
the scope is for head office and finance systems, granted only by name."""
from pyramid.response import Response

from lps_core.exports import CSV_TYPE, XLSX_TYPE, attachment_name
from lps_core.http.document import problems
from lps_core.http.operations import Operation, read_query
from lps_core.http.request import authenticate
from lps_core.reports.catalogue import REPORTS, run_report
from lps_core.reports.schemas import ReportFilters, TransactionFilters
from lps_core.reports.settings import ReportSettings

SCOPE = "reports"
SUMMARIES = {
    "sales": "Sales per outlet per day or month: gross, discount, net, bills, average bill, tenders, refunds",
    "points": "Points issued, reversed, restored, redeemed, expired and outstanding, the liability and breakage",
    "stored-value": "Stored value: deposits, bonus value, spend, refunds and the float",
    "credit": "Credit: charged, repaid, refunded, owed and overdue",
    "transactions": "Every settlement, bill, refund and redemption, searched and paginated",
    "products": "Product and category sales from the sales' items",
}


def _route(name):
    return f"api.report_{name.replace('-', '_')}"


def includeme(config):
    ReportSettings.from_mapping(config.registry.settings)  # a bad lps.reports.* value stops start-up
    for name in REPORTS:
        config.add_route(_route(name), f"/api/v1/reports/{name}")
        config.add_view(report_view, route_name=_route(name), request_method="GET", require_csrf=False)
    config.add_api_operations(OPERATIONS, SCHEMAS)


OPERATIONS = [
    Operation(_route(name), "get", "getReport" + "".join(part.title() for part in name.split("-")), SUMMARIES[name],
              {"200": {"description": "The report: JSON, or a CSV or XLSX file by `format`", "content": {
                  "application/json": {"schema": {"$ref": "#/components/schemas/Report"}},
                  "text/csv": {"schema": {"type": "string"}},
                  XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}}}},
               **problems(401, 403, 422)},
              scope=SCOPE, query=TransactionFilters if name == "transactions" else ReportFilters,
              description="The period is a day, a month or a custom range in the programme's time zone. A filter "
                          "that does not match this document is 400 naming it; one that matches but cannot be used "
                          "(an unknown outlet, `to` before `from`, a range without its days) is 422 naming it. "
                          "See docs/reports.md for every column and formula.")
    for name in REPORTS
]

_MONEY_OR_NUMBER = {"description": "Money as a decimal string, counts as integers, ratios as decimal strings"}
SCHEMAS = {
    "Report": {"type": "object", "properties": {
        "report": {"type": "string", "enum": list(REPORTS)},
        "title": {"type": "string"},
        "period": {"type": "object", "properties": {
            "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"},
            "group_by": {"type": "string", "enum": ["day", "month"]}, "time_zone": {"type": "string"},
            "starts_at": {"type": "string", "format": "date-time"}, "ends_at": {"type": "string", "format": "date-time"}}},
        "filters": {"type": "object", "additionalProperties": {"type": "string"}},
        "outlets": {"type": "array", "items": {"type": "string"}, "nullable": True,
                    "description": "The outlets filtered on; null for every outlet"},
        "totals": {"type": "object", "additionalProperties": _MONEY_OR_NUMBER},
        "tables": {"type": "array", "items": {"type": "object", "properties": {
            "title": {"type": "string"},
            "columns": {"type": "array", "items": {"type": "object", "properties": {
                "key": {"type": "string"}, "label": {"type": "string"},
                "kind": {"type": "string", "enum": ["text", "integer", "money", "ratio", "date"]}}}},
            "rows": {"type": "array", "items": {"type": "object"}},
            "totals": {"type": "object", "nullable": True}}}},
        "chart": {"type": "object"},
        "notes": {"type": "array", "items": {"type": "string"}},
        "page": {"type": "object", "properties": {"page": {"type": "integer"}, "per_page": {"type": "integer"},
                                                  "total": {"type": "integer"}}},
    }},
}


def report_response(report, format_, stem):
    """The report as the format asks: a JSON body, or a CSV or XLSX download."""
    if format_ == "json":
        return Response(json_body=report.as_json(), content_type="application/json", charset="utf-8")
    body, content_type = (report.as_csv(), CSV_TYPE) if format_ == "csv" else (report.as_xlsx(), XLSX_TYPE)
    response = Response(body=body, content_type=content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{attachment_name(stem, format_)}"'
    return response


def report_view(request):
    authenticate(request, SCOPE)
    name = request.matched_route.pattern.rsplit("/", 1)[1]
    filters = read_query(request)
    report = run_report(request.dbsession, name, filters, request.programme.timezone,
                        ReportSettings.from_mapping(request.registry.settings), export=filters.format != "json")
    scope = report.scope
    return report_response(report, filters.format, f"{name}-{scope.first_day.isoformat()}-{scope.last_day.isoformat()}")
