"""Reports API (scope reports): GET /api/v1/reports/<name> for each report of
lps_core.reports.catalogue, as JSON, CSV (UTF-8 with a BOM) or XLSX by `format`, served through
lps_core.http.catalogue_api: the filters are read through the operation's schema and the report
runs on the reports session over the whole programme."""
from lps_core.http.catalogue_api import add_catalogue_api
from lps_core.reports.catalogue import REPORTS, run_report
from lps_core.reports.schemas import ReportFilters, TransactionFilters
from lps_core.reports.settings import ReportSettings

SUMMARIES = {
    "sales": "Sales per outlet per day or month: gross, discount, net, bills, average bill, tenders, refunds",
    "points": "Points issued, reversed, restored, redeemed, expired and outstanding, the liability and breakage",
    "stored-value": "Stored value: deposits, bonus value, spend, refunds and the float",
    "credit": "Credit: charged, repaid, refunded, owed and overdue",
    "transactions": "Every settlement, bill, refund and redemption, searched and paginated",
    "products": "Product and category sales from the sales' items",
}


def includeme(config):
    ReportSettings.from_mapping(config.registry.settings)  # a bad lps.reports.* value stops start-up
    add_catalogue_api(
        config, prefix="report", path="/api/v1/reports", names=REPORTS, summaries=SUMMARIES,
        filters={name: TransactionFilters if name == "transactions" else ReportFilters for name in REPORTS},
        runner=run, answer="The report", schema="Report",
        description="The period is a day, a month or a custom range in the programme's time zone. A filter "
                    "that does not match this document is 400 naming it; one that matches but cannot be used "
                    "(an unknown outlet, `to` before `from`, a range without its days) is 422 naming it. "
                    "See docs/reports.md for every column and formula.")


def run(request, name, filters, export):
    return run_report(request.dbsession, name, filters, request.programme.timezone,
                      ReportSettings.from_mapping(request.registry.settings), export=export)
