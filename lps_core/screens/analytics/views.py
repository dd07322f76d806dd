"""Analytics screens: the list of views, and each view's page or export, drawn through
lps_core.screens.catalogue_views as the reports are. The filters are read through
lps_core.analytics.schemas and the view runs on the reports session within the operator's outlets;
the RFM view's quadrants open as member lists."""
from pyramid.view import view_config

from lps_core.analytics.catalogue import VIEWS, run_view
from lps_core.analytics.rfm import quadrant_labels
from lps_core.analytics.schemas import ANALYTICS_GRAINS, QUADRANTS, ScreenFilters
from lps_core.analytics.settings import AnalyticsSettings
from lps_core.members.models import ENROLMENT_CHANNELS
from lps_core.operators.permissions import Permission
from lps_core.reports.settings import ReportSettings
from lps_core.screens.catalogue_views import catalogue_page
from lps_core.screens.shared import dgettext

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
    return catalogue_page(request, names=VIEWS, titles=TITLES, filters=ScreenFilters, runner=run, extras=_extras)


def run(request, name, filters, *, allowed, export):
    return run_view(request.dbsession, name, filters, request.programme.timezone,
                    AnalyticsSettings.from_mapping(request.registry.settings),
                    ReportSettings.from_mapping(request.registry.settings), allowed=allowed, export=export)


def _extras(request, name, form):
    """The view template's choices and links: the other views, grains, channels, and for RFM its
    quadrants, each a link to its members (the filters kept, the page and format dropped)."""
    labels = quadrant_labels()
    return {"views": [(view, TITLES[view]) for view in VIEWS], "grains": ANALYTICS_GRAINS,
            "channels": ENROLMENT_CHANNELS,
            "quadrants": [(quadrant, labels[quadrant]) for quadrant in QUADRANTS] if name == "rfm" else [],
            "member_column": MEMBER_COLUMN,
            "member_url": lambda member_id: request.route_url("members.view", id=member_id),
            "quadrant_url": lambda quadrant: request.current_route_url(
                _query={**{k: v for k, v in form.items() if k not in ("page", "format")}, "quadrant": quadrant})}
