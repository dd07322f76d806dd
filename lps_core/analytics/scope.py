"""The period and outlets an analytics view covers: the reports' scope (lps_core.reports.scope,
the programme's time zone, the operator's outlets), by default the twelve months up to today, and
with weeks (Monday to Sunday, cut at the period's ends) as a third grain."""
from dataclasses import replace
from datetime import date, datetime, timedelta

from lps_core.errors import Unprocessable
from lps_core.reports.scope import Bucket, local_start, resolve_scope

MAX_WEEKS = 530


def default_period(filters, today: date):
    """Without a period, date or range in the filters: the first of the month eleven months ago to today."""
    if filters.model_fields_set & {"period", "date", "from_", "to"}:
        return filters
    month = today.month - 11
    first = date(today.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)
    return filters.model_copy(update={"period": "range", "from_": first, "to": today})


def analytics_scope(db, filters, tz, *, allowed=None, today: date | None = None):
    today = today or datetime.now(tz).date()
    filters = default_period(filters, today)
    weekly = filters.group_by == "week"
    if weekly:
        filters = filters.model_copy(update={"group_by": "month"})
    scope = resolve_scope(db, filters, tz, allowed=allowed, today=today)
    if not weekly:
        return scope
    if (scope.last_day - scope.first_day).days // 7 > MAX_WEEKS:
        raise Unprocessable("too many weeks to show one by one", {"group_by": "must be month for so long a period"})
    buckets, monday = [], scope.first_day - timedelta(days=scope.first_day.weekday())
    while monday <= scope.last_day:
        following = monday + timedelta(days=7)
        buckets.append(Bucket(monday.isoformat(), local_start(max(monday, scope.first_day), tz),
                              local_start(min(following, scope.last_day + timedelta(days=1)), tz)))
        monday = following
    return replace(scope, grain="week", buckets=tuple(buckets), filters={**scope.filters, "group_by": "week"})
