"""What the analytics views share: the members they count, the trailing window of activity, a
day count in SQL on either database, and paging."""
from datetime import date

from sqlalchemy import BigInteger, cast, func, null, select

from lps_core.members.models import MemberActivity

# Members who are (or were) in the programme: not a refused or still pending application.
COUNTED = ("active", "dormant", "suspended", "closed")
CURRENT = ("active", "dormant", "suspended")


def window_start(last_day: date, months: int) -> date:
    """The first day of the month `months - 1` months before `last_day`'s: a window of `months`
    calendar months ending with last_day's month."""
    index = last_day.year * 12 + last_day.month - 1 - (months - 1)
    return date(index // 12, index % 12 + 1, 1)


def activity_in(first_month: date, last_day: date, name="activity"):
    """Per member, over the months from first_month to last_day's: visits (bills and stays) and
    spend, from the monthly counters that each earning and refund keeps in step."""
    # Cast back to bigint: PostgreSQL sums bigints as numeric, slower to compare when RFM sorts a
    # million members by them.
    return (select(MemberActivity.member_id.label("member_id"),
                   cast(func.sum(MemberActivity.bills + MemberActivity.stays), BigInteger).label("visits"),
                   cast(func.sum(MemberActivity.spend_cents), BigInteger).label("spend"))
            .where(MemberActivity.month >= first_month, MemberActivity.month <= last_day)
            .group_by(MemberActivity.member_id).subquery(name))


def null_of(type_, name):
    """A typed NULL column, for the parts of a UNION ALL that have no value for it (a view that
    answers its page and its totals in one statement, so that the members are scored once)."""
    return cast(null(), type_).label(name)


def days_between(db, earlier, later):
    """later - earlier in days (a float), for timestamps with a time zone, on either database."""
    if db.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier) / 86400.0
    return func.julianday(later) - func.julianday(earlier)


def paged(query, page: int, per_page: int, export: bool, export_limit: int = 100_000):
    return query.limit(export_limit) if export else query.limit(per_page).offset((page - 1) * per_page)


def page_info(filters, total: int, export: bool):
    return None if export else {"page": filters.page, "per_page": filters.per_page, "total": total}
