"""The period and the outlets a report covers, resolved from its filters.

Periods are counted in the programme's time zone (lps.timezone), as the dashboard counts its day:
a day runs from local midnight to the next, a month from its first day's midnight. Every bound is
turned into UTC instants once, here, and the reports compare the stored UTC times with them, so a
day in Shanghai is 16:00 to 16:00 UTC and a day across a daylight-saving change has its true
length. Rows are grouped into buckets (days or months) by joining a small table of the buckets'
bounds on SQLite, and by the local date or month of each moment on PostgreSQL (to_char of
timezone(zone, t), a hash aggregate); both give the same labels."""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import DateTime, String, and_, func, literal, select, union_all

from lps_core.errors import Unprocessable
from lps_core.outlets.models import Outlet, Property
from lps_core.reports.schemas import ReportFilters

MAX_DAYS = 3660  # ten years
MAX_DAY_BUCKETS = 400
DAYS_BY_DEFAULT = 62  # a range up to this long is grouped by day unless told otherwise


@dataclass(frozen=True)
class Bucket:
    label: str  # 2026-11-25 or 2026-11
    starts: datetime  # UTC
    ends: datetime  # UTC, exclusive


@dataclass(frozen=True)
class ReportScope:
    first_day: date
    last_day: date  # inclusive
    starts: datetime  # UTC
    ends: datetime  # UTC, exclusive
    grain: str  # day | month
    buckets: tuple
    outlet_ids: frozenset | None  # None: every outlet
    outlets: tuple  # (id, code, name) of the outlets filtered on, or of every outlet
    filters: dict  # the filters as given, for the report's heading and exports
    tz: object

    @property
    def label(self) -> str:
        if self.first_day == self.last_day:
            return self.first_day.isoformat()
        return f"{self.first_day.isoformat()} – {self.last_day.isoformat()}"

    def buckets_table(self, name="buckets"):
        """The buckets as a subquery (label, starts, ends): joined on starts <= t < ends."""
        parts = [select(literal(bucket.label, String(10)).label("label"),
                        literal(bucket.starts, DateTime(timezone=True)).label("starts"),
                        literal(bucket.ends, DateTime(timezone=True)).label("ends"))
                 for bucket in self.buckets]
        return (parts[0] if len(parts) == 1 else union_all(*parts)).subquery(name)

    def bucket_of(self, db, at):
        """(label, join): the SQL expression of the bucket label of the moment `at`, and a function
        that adds to a query what the label needs. On PostgreSQL the label is the local date
        (to_char(timezone(zone, at))), grouped by a hash; elsewhere the query joins the buckets'
        table on starts <= at < ends."""
        if db.get_bind().dialect.name == "postgresql":
            pattern = "YYYY-MM-DD" if self.grain == "day" else "YYYY-MM"
            return func.to_char(func.timezone(str(self.tz), at), pattern), lambda query: query
        buckets = self.buckets_table()
        return buckets.c.label, lambda query: query.join(buckets, and_(at >= buckets.c.starts, at < buckets.c.ends))

    def outlet_filter(self, column):
        """A WHERE clause keeping `column` (an outlet id) to the scope's outlets; None for every outlet."""
        return None if self.outlet_ids is None else column.in_(sorted(self.outlet_ids))


def local_start(day: date, tz) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(timezone.utc)


def _month_after(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _days(filters: ReportFilters, today: date) -> tuple[date, date]:
    if filters.period == "range":
        missing = {name: "is required for a range" for name, value in (("from", filters.from_), ("to", filters.to))
                   if value is None}
        if missing:
            raise Unprocessable("the report's period is incomplete", missing)
        if filters.to < filters.from_:
            raise Unprocessable("the report's period ends before it starts", {"to": "must not be before from"})
        if (filters.to - filters.from_).days >= MAX_DAYS:
            raise Unprocessable("the report's period is too long", {"to": f"must be within {MAX_DAYS} days of from"})
        return filters.from_, filters.to
    if filters.from_ is not None or filters.to is not None:
        raise Unprocessable("from and to are for a range", {"from" if filters.from_ else "to":
                                                               "is only used with period=range"})
    if filters.period == "day":
        if filters.date is not None and len(filters.date) == 7:
            raise Unprocessable("a day period needs a day", {"date": "must be a day such as 2026-11-25"})
        day = date.fromisoformat(filters.date) if filters.date else today
        return day, day
    first = date.fromisoformat(filters.date[:7] + "-01") if filters.date else today.replace(day=1)
    return first, _month_after(first) - timedelta(days=1)


def _buckets(first: date, last: date, grain: str, tz) -> tuple:
    buckets = []
    day = first if grain == "day" else first.replace(day=1)
    while day <= last:
        following = day + timedelta(days=1) if grain == "day" else _month_after(day)
        label = day.isoformat() if grain == "day" else day.isoformat()[:7]
        starts = local_start(max(day, first), tz)
        ends = local_start(min(following, last + timedelta(days=1)), tz)
        buckets.append(Bucket(label, starts, ends))
        day = following
    return tuple(buckets)


def _outlets(db, filters: ReportFilters, allowed) -> tuple:
    """The outlets the filters name (within `allowed`, the operator's or None for all): (ids or None, rows)."""
    query = select(Outlet.id, Outlet.code, Outlet.name).join(Property, Property.id == Outlet.property_id)
    narrowed = False
    for field, value in (("property", filters.property), ("partner", filters.partner)):
        if value is None:
            continue
        kind = db.scalar(select(Property.kind).where(Property.code == value))
        if kind is None or (field == "partner" and kind != "partner"):
            raise Unprocessable("the report's filters name something unknown",
                                   {field: f"is not a known {'partner' if field == 'partner' else 'property'}"})
        query, narrowed = query.where(Property.code == value), True
    if filters.outlet is not None:
        if db.scalar(select(Outlet.id).where(Outlet.code == filters.outlet)) is None:
            raise Unprocessable("the report's filters name something unknown", {"outlet": "is not a known outlet"})
        query, narrowed = query.where(Outlet.code == filters.outlet), True
    rows = db.execute(query.order_by(Outlet.code)).all()
    if allowed is not None:
        inside = [row for row in rows if row.id in allowed]
        if filters.outlet is not None and not inside:
            raise Unprocessable("the outlet is not one of yours", {"outlet": "is not one of your outlets"})
        return frozenset(row.id for row in inside), tuple(inside)
    return (frozenset(row.id for row in rows) if narrowed else None), tuple(rows)


def resolve_scope(db, filters: ReportFilters, tz, *, allowed=None, today: date | None = None) -> ReportScope:
    """The scope of `filters`: 422 naming the field for a period or an outlet that cannot be used (the
    filters match the document, so 400 is kept for those that do not).
    `allowed`: the outlet ids the reader may see (an operator's), None for every outlet."""
    today = today or datetime.now(tz).date()
    first, last = _days(filters, today)
    days = (last - first).days + 1
    grain = filters.group_by or ("day" if days <= DAYS_BY_DEFAULT else "month")
    if grain == "day" and days > MAX_DAY_BUCKETS:
        raise Unprocessable("too many days to show one by one",
                               {"group_by": f"must be month for a period longer than {MAX_DAY_BUCKETS} days"})
    outlet_ids, outlets = _outlets(db, filters, allowed)
    given = {key: value for key, value in filters.model_dump(by_alias=True).items()
             if value is not None and key not in ("format", "page", "per_page")}
    return ReportScope(first, last, local_start(first, tz), local_start(last + timedelta(days=1), tz), grain,
                       _buckets(first, last, grain, tz), outlet_ids, outlets,
                       {key: str(value) for key, value in given.items()}, tz)
