"""The analytics views by name, as the screens and the API call them."""
from lps_core.db import reports_session_of, tune_for_aggregates
from lps_core.errors import NotFound

VIEWS = ("cards", "new-members", "demographics", "referrals", "churn", "credit", "rfm", "lifecycle")


def run_view(db, name, filters, tz, settings, report_settings, *, allowed=None, export=False, today=None, now=None):
    """The view `name` over `filters` (lps_core.analytics.schemas.AnalyticsFilters), read through
    the reports session, within `allowed` outlet ids (None: every outlet)."""
    from lps_core.analytics.members import card_mix, demographics, lifecycle, new_members, referrals
    from lps_core.analytics.rfm import rfm
    from lps_core.analytics.scope import analytics_scope
    from lps_core.analytics.warnings import churn, credit_warning

    if name not in VIEWS:
        raise NotFound(f"there is no analytics view {name!r}", {"name": f"must be one of: {', '.join(VIEWS)}"})
    if name == "rfm" and allowed is None:
        today = _rfm_default_day(db, filters, tz, settings, today)
    scope = analytics_scope(db, filters, tz, allowed=allowed, today=today)
    tune_for_aggregates(reports_session_of(db))  # a year of activity summed per member
    if name == "churn":
        return churn(db, scope, filters, settings, export, now=now)
    if name == "credit":
        return credit_warning(db, scope, filters, settings, export, now=now, overdue_days=report_settings.overdue_days)
    build = {"cards": card_mix, "new-members": new_members, "demographics": demographics, "referrals": referrals,
             "rfm": rfm, "lifecycle": lifecycle}[name]
    return build(db, scope, filters, settings, export)


def _rfm_default_day(db, filters, tz, settings, today):
    """Without a period, RFM for the whole programme ends on the day of the nightly scoring while
    it is fresh (lps_core.analytics.scoring), so the screen opens on the stored scores."""
    from datetime import datetime

    from lps_core.analytics.scoring import fresh_scoring

    if filters.model_fields_set & {"period", "date", "from_", "to"} or any(
            (filters.property, filters.partner, filters.outlet, filters.channel)):
        return today
    today = today or datetime.now(tz).date()
    scoring = fresh_scoring(reports_session_of(db), today, settings)
    return scoring.as_of if scoring is not None else today
