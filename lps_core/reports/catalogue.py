"""The reports by name, as the screens, the API, `lps report` and the schedule call them."""
from lps_core.db import reports_session_of, tune_for_aggregates
from lps_core.errors import NotFound

REPORTS = ("sales", "points", "stored-value", "credit", "transactions", "products")


def run_report(db, name, filters, tz, settings, *, allowed=None, export=False, today=None):
    """The report `name` over the scope of `filters` (lps_core.reports.schemas), read through the
    reports session. `allowed`: the outlet ids the reader may see (None: every outlet); `export`: a
    paginated report gives every row (up to its export limit) instead of one page."""
    from lps_core.reports.credit_and_value import credit_report, stored_value_report
    from lps_core.reports.points import points_report
    from lps_core.reports.products import products_report
    from lps_core.reports.sales import sales_report
    from lps_core.reports.scope import resolve_scope
    from lps_core.reports.transactions import transactions_report

    if name not in REPORTS:
        raise NotFound(f"there is no report {name!r}", {"name": f"must be one of: {', '.join(REPORTS)}"})
    scope = resolve_scope(db, filters, tz, allowed=allowed, today=today)
    tune_for_aggregates(reports_session_of(db))  # a month's rows joined to a million members
    if name == "transactions":
        return transactions_report(db, scope, settings, filters=filters, export=export)
    build = {"sales": sales_report, "points": points_report, "stored-value": stored_value_report,
             "credit": credit_report, "products": products_report}[name]
    return build(db, scope, settings)
