"""Report screens: the list of reports, and each report's page or export, drawn through
lps_core.screens.catalogue_views. The filters are read through lps_core.reports.schemas and the
report runs on the reports session within the operator's outlets. Labels are translated for the
operator's language, in the exports too."""
from pyramid.view import view_config

from lps_core.operators.permissions import Permission
from lps_core.outlets.models import Property
from lps_core.reports.catalogue import REPORTS, run_report
from lps_core.reports.schemas import GRAINS, PERIODS, TRANSACTION_KINDS, ScreenFilters
from lps_core.reports.settings import ReportSettings
from lps_core.screens.catalogue_views import catalogue_page
from lps_core.screens.shared import dgettext

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
    return catalogue_page(request, names=REPORTS, titles=TITLES, filters=ScreenFilters, runner=run, extras=_extras)


def run(request, name, filters, *, allowed, export):
    return run_report(request.dbsession, name, filters, request.programme.timezone,
                      ReportSettings.from_mapping(request.registry.settings), allowed=allowed, export=export)


def _extras(request, name, form):
    """The report template's choices: periods, grains, transaction kinds and the properties."""
    return {"periods": PERIODS, "grains": GRAINS, "kinds": TRANSACTION_KINDS,
            "properties": request.dbsession.execute(Property.__table__.select().order_by(Property.code)).all()}
