"""Analytics API (scope reports): GET /api/v1/analytics/<name> for each view of
lps_core.analytics.catalogue, as JSON, CSV or XLSX by `format`, in the reports' shape, served
through lps_core.http.catalogue_api as the reports are: the filters are read through the
operation's schema and the view runs on the reports session over the whole programme."""
from lps_core.analytics.catalogue import VIEWS, run_view
from lps_core.analytics.schemas import AnalyticsFilters
from lps_core.analytics.settings import AnalyticsSettings
from lps_core.http.catalogue_api import add_catalogue_api
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


def includeme(config):
    AnalyticsSettings.from_mapping(config.registry.settings)  # a bad lps.analytics.* value stops start-up
    add_catalogue_api(
        config, prefix="analytics", path="/api/v1/analytics", names=VIEWS, summaries=SUMMARIES,
        filters=dict.fromkeys(VIEWS, AnalyticsFilters), runner=run, answer="The view", schema="AnalyticsView",
        description="Without a period, the twelve months up to today. A filter that does not match this "
                    "document is 400 naming it; one that cannot be used (an unknown outlet, `to` before "
                    "`from`) is 422 naming it. See docs/analytics.md for every definition and formula.")


def run(request, name, filters, export):
    return run_view(request.dbsession, name, filters, request.programme.timezone,
                    AnalyticsSettings.from_mapping(request.registry.settings),
                    ReportSettings.from_mapping(request.registry.settings), export=export)
