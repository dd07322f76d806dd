"""Per-member monthly activity counters, moved in the same transaction as each earning or refund."""
from datetime import date

from sqlalchemy import bindparam, update
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


def record_activity(db, member_id, occurred_at, *, points=0, spend_cents=0, nights=0, stays=0, bills=0):
    """Add to (or, with negative numbers for a refund, take from) the member's month; a new bill
    also moves the member's last activity forward."""
    params = {"member_id": member_id, "month": month_of(occurred_at), "points": points, "spend_cents": spend_cents,
              "nights": nights, "stays": stays, "bills": bills}
    dialect = db.get_bind().dialect.name
    if bills > 0 and dialect == "postgresql":
        db.execute(UPSERT_AND_TOUCH, {**params, "touch_member_id": member_id, "touch_at": as_utc(occurred_at)})
        return
    db.execute(UPSERT[dialect], params)
    if bills > 0:
        db.execute(_TOUCH_MEMBER, {"touch_member_id": member_id, "touch_at": as_utc(occurred_at)})


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
