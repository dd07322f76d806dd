"""Analytics screens. The filters are read through lps_core.analytics.schemas (a bad one is shown
beside its field with a 400), the view runs on the reports session within the operator's outlets,
and the same Report is drawn on the page or written as CSV or XLSX (`format`) through the
reports' helpers, so the screen and its exports show the same figures."""
from pyramid.httpexceptions import HTTPNotFound
from pyramid.view import view_config

from lps_core.analytics.catalogue import VIEWS, run_view
from lps_core.analytics.rfm import quadrant_labels
from lps_core.analytics.schemas import ANALYTICS_GRAINS, QUADRANTS, ScreenFilters
from lps_core.analytics.settings import AnalyticsSettings
from lps_core.errors import LpsError
from lps_core.members.models import ENROLMENT_CHANNELS
from lps_core.operators.permissions import Permission
from lps_core.reports.settings import ReportSettings
from lps_core.reports.texts import translated
from lps_core.screens.reports.views import _cell, _chart_json, _download
from lps_core.screens.shared import dgettext, form_errors, outlets_in_scope
from lps_core.screens.shell.security import outlet_scope
from lps_core.validation import validate

TEMPLATES = "lps_core.screens.analytics:templates/"
TITLES = {
    "cards": dgettext("lps_analytics", "Card-type mix"),
    "new-members": dgettext("lps_analytics", "New members"),
    "demographics": dgettext("lps_analytics", "Region, gender and age"),
    "referrals": dgettext("lps_analytics", "Referral ranking"),
    "churn": dgettext("lps_analytics", "Churn warning"),
    "credit": dgettext("lps_analytics", "Credit warning"),
    "rfm": dgettext("lps_analytics", "RFM"),
    "lifecycle": dgettext("lps_analytics", "Lifecycle"),
}
DESCRIPTIONS = {
    "cards": dgettext("lps_analytics", "Active cards per card type and the cards issued over time."),
    "new-members": dgettext("lps_analytics", "Enrolments per day, week or month, by channel and outlet."),
    "demographics": dgettext("lps_analytics", "Members by province and city, gender and age band."),
    "referrals": dgettext("lps_analytics", "Referrers with the most approved referrals and what those brought."),
    "churn": dgettext("lps_analytics", "Members who stopped coming against their own usual interval."),
    "credit": dgettext("lps_analytics", "Credit lines near their limit or overdue."),
    "rfm": dgettext("lps_analytics", "Recency, frequency and spend scores and the four quadrants."),
    "lifecycle": dgettext("lps_analytics", "Members by stage: new, active, dormant, closed."),
}
MEMBER_COLUMN = "member_id"


@view_config(route_name="analytics", renderer=TEMPLATES + "index.pt", permission=Permission.REPORTS_VIEW)
def index(request):
    return {"views": [(name, TITLES[name], DESCRIPTIONS[name]) for name in VIEWS]}


@view_config(route_name="analytics.view", renderer=TEMPLATES + "view.pt", permission=Permission.REPORTS_VIEW)
def analytics_view(request):
    name = request.matchdict["name"]
    if name not in VIEWS:
        raise HTTPNotFound()
    raw = {key: value for key, value in request.GET.items() if value.strip()}
    errors, report, filters = {}, None, None
    try:
        filters = validate(ScreenFilters, raw)
        report = run_view(request.dbsession, name, filters, request.programme.timezone,
                          AnalyticsSettings.from_mapping(request.registry.settings),
                          ReportSettings.from_mapping(request.registry.settings), allowed=outlet_scope(request),
                          export=filters.format != "json")
    except LpsError as exc:
        request.response.status = exc.status
        errors = form_errors(exc.fields) or {"form": exc.message}
    if report is not None:
        report = translated(report, request.localizer.translate)
        if filters.format != "json":
            return _download(report, filters.format, name)
    labels = quadrant_labels()
    return {"name": name, "title": TITLES[name], "report": report, "errors": errors, "form": raw,
            "views": [(view, TITLES[view]) for view in VIEWS], "grains": ANALYTICS_GRAINS,
            "channels": ENROLMENT_CHANNELS, "outlets": outlets_in_scope(request),
            "quadrants": [(quadrant, labels[quadrant]) for quadrant in QUADRANTS] if name == "rfm" else [],
            "chart_json": _chart_json(report), "member_column": MEMBER_COLUMN,
            "cell": lambda value, kind: _cell(request, value, kind),
            "member_url": lambda member_id: request.route_url("members.view", id=member_id),
            "quadrant_url": lambda quadrant: request.current_route_url(
                _query={**{k: v for k, v in raw.items() if k not in ("page", "format")}, "quadrant": quadrant}),
            "export_url": lambda format_: request.current_route_url(_query={**raw, "format": format_}),
            "page_url": lambda page: request.current_route_url(_query={**raw, "page": str(page)})}
