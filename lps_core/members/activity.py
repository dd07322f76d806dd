"""Per-member monthly activity counters, moved in the same transaction as each earning or refund."""
from datetime import date

from sqlalchemy import Date, bindparam, func, select, true, update
from sqlalchemy.dialects import postgresql, sqlite

from lps_core.members.models import Member
from lps_core.tiers.models import MemberActivity
from lps_core.timeutil import as_utc

ACTIVITY = MemberActivity.__table__
COUNTERS = ("points", "spend_cents", "nights", "stays", "bills")


def _upsert(dialect):
    insert = dialect.insert(ACTIVITY)
    return insert.on_conflict_do_update(
        index_elements=["member_id", "month"],
        set_={name: ACTIVITY.c[name] + insert.excluded[name] for name in COUNTERS},
    )


UPSERT = {"postgresql": _upsert(postgresql), "sqlite": _upsert(sqlite)}


def month_of(moment) -> date:
    moment = as_utc(moment)
    return date(moment.year, moment.month, 1)


def record_activity(db, member_id, occurred_at, *, points=0, spend_cents=0, nights=0, stays=0, bills=0,
                    window=None):
    """Add to (or, with negative numbers for a refund, take from) the member's month; a new bill
    also moves the member's last activity forward.

    With `window` (start, end) for a new bill on PostgreSQL, the same statement reads the member's
    status and tier and the counters summed over the window, this bill included, and returns that
    row, which lps_core.tiers.services.upgrade_if_qualified takes instead of reading it again.
    Otherwise it returns None."""
    params = {"member_id": member_id, "month": month_of(occurred_at), "points": points, "spend_cents": spend_cents,
              "nights": nights, "stays": stays, "bills": bills}
    dialect = db.get_bind().dialect.name
    touch = {"touch_member_id": member_id, "touch_at": as_utc(occurred_at)}
    if bills > 0 and dialect == "postgresql" and window is not None:
        return db.execute(UPSERT_TOUCH_AND_READ_WINDOW, {**params, **touch, "start": window[0], "end": window[1]}).one()
    if bills > 0 and dialect == "postgresql":
        db.execute(UPSERT_AND_TOUCH, {**params, **touch})
        return None
    db.execute(UPSERT[dialect], params)
    if bills > 0:
        db.execute(_TOUCH_MEMBER, touch)
    return None


def _touch_member_statement():
    """last_activity_at only moves forward: it drives dormancy and inactivity expiry."""
    members = Member.__table__
    return (update(members).where(members.c.id == bindparam("touch_member_id"))
            .where((members.c.last_activity_at.is_(None)) | (members.c.last_activity_at < bindparam("touch_at")))
            .values(last_activity_at=bindparam("touch_at")))


_TOUCH_MEMBER = _touch_member_statement()

# PostgreSQL: the touch rides along with the upsert as a data-modifying CTE, saving a round trip on
# every bill. Its parameters are named unlike any column of either table, since an INSERT or UPDATE
# takes such a parameter as a value to set.
UPSERT_AND_TOUCH = UPSERT["postgresql"].add_cte(_TOUCH_MEMBER.cte("touched"))


def _upsert_touch_and_read_window_statement():
    """The upsert and the touch as CTEs of one SELECT of the member's status, tier and window sums.

    The SELECT sees the database as it was when the statement began, so the bill's own month comes
    from the upsert's RETURNING (its counters after this bill, and after any bill of the same
    month committed meanwhile) and the other months of the window from the table."""
    values = {name: bindparam(name) for name in ("member_id", "month", *COUNTERS)}
    upserted = (_upsert(postgresql).values(values)
                .returning(ACTIVITY.c.month, *(ACTIVITY.c[name] for name in COUNTERS)).cte("upserted"))
    members = Member.__table__
    start, end = bindparam("start", type_=Date), bindparam("end", type_=Date)
    other_months = (select(*(func.coalesce(func.sum(ACTIVITY.c[name]), 0).label(name) for name in COUNTERS))
                    .where(ACTIVITY.c.member_id == bindparam("member_id"), ACTIVITY.c.month >= start,
                           ACTIVITY.c.month < end, ACTIVITY.c.month != bindparam("month", type_=Date))
                    .subquery("other_months"))
    this_month = (select(*(upserted.c[name] for name in COUNTERS))
                  .where(upserted.c.month >= start, upserted.c.month < end).subquery("this_month"))
    sums = [(other_months.c[name] + func.coalesce(this_month.c[name], 0)).label(name) for name in COUNTERS]
    return (select(members.c.status, members.c.tier_id, *sums)
            .select_from(members.join(other_months, true()).outerjoin(this_month, true()))
            .where(members.c.id == bindparam("member_id"))
            .add_cte(upserted).add_cte(_TOUCH_MEMBER.cte("touched")))


UPSERT_TOUCH_AND_READ_WINDOW = _upsert_touch_and_read_window_statement()
