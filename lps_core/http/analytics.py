"""Analytics API (scope reports): GET /api/v1/analytics/<name> for each view of
lps_core.analytics.catalogue, as JSON, CSV or XLSX by `format`, in the reports' shape (the
`Report` schema of lps_core.http.reports). Thin: read the filters through the operation's schema,
run the view on the reports session, shape the answer as the reports do."""
from lps_core.analytics.catalogue import VIEWS, run_view
from lps_core.analytics.schemas import AnalyticsFilters
from lps_core.analytics.settings import AnalyticsSettings
from lps_core.exports import XLSX_TYPE
from lps_core.http.document import problems
from lps_core.http.operations import Operation, read_query
from lps_core.http.reports import SCHEMAS as REPORT_SCHEMAS
from lps_core.http.reports import SCOPE, report_response
from lps_core.http.request import authenticate
from lps_core.reports.settings import ReportSettings

SUMMARIES = {
    "cards": "Card-type mix: active cards per card type, and cards issued per type over time",
    "new-members": "New members per day, week or month, by channel and outlet",
    "demographics": "Members by region (province and city), gender and age band",
    "referrals": "Referrers ranked by approved referrals, with the spend those referrals brought",
    "churn": "Members whose visits stopped against their own usual interval, ranked by value at risk",
    "credit": "Credit lines near their limit or overdue",
    "rfm": "RFM scores, the four quadrants with counts and value, and a quadrant's members",
    "lifecycle": "Members by stage (new, active, dormant, closed) over time",
}


def _route(name):
    return f"api.analytics_{name.replace('-', '_')}"


def includeme(config):
    AnalyticsSettings.from_mapping(config.registry.settings)  # a bad lps.analytics.* value stops start-up
    for name in VIEWS:
        config.add_route(_route(name), f"/api/v1/analytics/{name}")
        config.add_view(analytics_view, route_name=_route(name), request_method="GET", require_csrf=False)
    config.add_api_operations(OPERATIONS, SCHEMAS)


OPERATIONS = [
    Operation(_route(name), "get", "getAnalytics" + "".join(part.title() for part in name.split("-")), SUMMARIES[name],
              {"200": {"description": "The view: JSON, or a CSV or XLSX file by `format`", "content": {
                  "application/json": {"schema": {"$ref": "#/components/schemas/AnalyticsView"}},
                  "text/csv": {"schema": {"type": "string"}},
                  XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}}}},
               **problems(400, 401, 403, 422)},
              scope=SCOPE, query=AnalyticsFilters,
              description="Without a period, the twelve months up to today. A filter that does not match this "
                          "document is 400 naming it; one that cannot be used (an unknown outlet, `to` before "
                          "`from`) is 422 naming it. See docs/analytics.md for every definition and formula.")
    for name in VIEWS
]

# A view is shaped as a report is, named by the views' names.
SCHEMAS = {"AnalyticsView": {**REPORT_SCHEMAS["Report"], "properties": {
    **REPORT_SCHEMAS["Report"]["properties"], "report": {"type": "string", "enum": list(VIEWS)}}}}


def analytics_view(request):
    authenticate(request, SCOPE)
    name = request.matched_route.pattern.rsplit("/", 1)[1]
    filters = read_query(request)
    report = run_view(request.dbsession, name, filters, request.programme.timezone,
                      AnalyticsSettings.from_mapping(request.registry.settings),
                      ReportSettings.from_mapping(request.registry.settings), export=filters.format != "json")
    scope = report.scope
    return report_response(report, filters.format, f"{name}-{scope.first_day.isoformat()}-{scope.last_day.isoformat()}")
