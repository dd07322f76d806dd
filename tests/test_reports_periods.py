"""Report periods are counted in the programme's time zone: a Shanghai day is 16:00 to 16:00 UTC,
a month runs from its first local midnight, a day across a daylight-saving change has its true
length, and buckets cover the period exactly."""
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from lps_core.errors import Unprocessable
from lps_core.reports.schemas import ReportFilters
from lps_core.reports.scope import resolve_scope

SHANGHAI, NEW_YORK = ZoneInfo("Asia/Shanghai"), ZoneInfo("America/New_York")


def scope(db, tz, **filters):
    return resolve_scope(db, ReportFilters.model_validate(filters), tz, today=date(2026, 11, 26))


def test_a_shanghai_day_and_month(db, seed):
    day = scope(db, SHANGHAI, period="day", date="2026-11-25")
    assert (day.starts, day.ends) == (datetime(2026, 11, 24, 16, tzinfo=timezone.utc),
                                      datetime(2026, 11, 25, 16, tzinfo=timezone.utc))
    month = scope(db, SHANGHAI)  # this month, by default, per day
    assert (month.first_day, month.last_day, month.grain, len(month.buckets)) == (
        date(2026, 11, 1), date(2026, 11, 30), "day", 30)
    assert month.starts == datetime(2026, 10, 31, 16, tzinfo=timezone.utc)
    assert all(a.ends == b.starts for a, b in zip(month.buckets, month.buckets[1:]))
    assert (month.buckets[0].starts, month.buckets[-1].ends) == (month.starts, month.ends)


def test_a_long_range_is_grouped_by_month_and_a_dst_day_has_its_true_length(db, seed):
    year = scope(db, SHANGHAI, period="range", **{"from": "2026-01-15", "to": "2026-12-31"})
    assert year.grain == "month" and [b.label for b in year.buckets][:2] == ["2026-01", "2026-02"]
    assert year.buckets[0].starts == datetime(2026, 1, 14, 16, tzinfo=timezone.utc)  # from the 15th, not the 1st
    change = scope(db, NEW_YORK, period="day", date="2026-03-08")  # clocks go forward: 23 hours
    assert change.ends - change.starts == timedelta(hours=23)


def test_outlet_filters_narrow_and_name_unknown_codes(db, seed):
    assert scope(db, SHANGHAI).outlet_ids is None
    assert [row.code for row in scope(db, SHANGHAI, property="T").outlets] == ["REST", "SPA"]
    assert [row.code for row in scope(db, SHANGHAI, outlet="SPA").outlets] == ["SPA"]
    with pytest.raises(Unprocessable) as refused:
        scope(db, SHANGHAI, property="NOPE")
    assert refused.value.fields == {"property": "is not a known property"}
    allowed = frozenset({scope(db, SHANGHAI, outlet="SPA").outlets[0].id})
    narrowed = resolve_scope(db, ReportFilters(), SHANGHAI, allowed=allowed, today=date(2026, 11, 26))
    assert narrowed.outlet_ids == allowed
