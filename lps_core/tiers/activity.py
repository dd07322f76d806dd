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
    """Add to (or, with negative numbers for a refund, take from) the member's month."""
    db.execute(UPSERT[db.get_bind().dialect.name], {
        "member_id": member_id, "month": month_of(occurred_at), "points": points, "spend_cents": spend_cents,
        "nights": nights, "stays": stays, "bills": bills,
    })
    if bills > 0:
        db.execute(_TOUCH_MEMBER, {"member_id": member_id, "at": as_utc(occurred_at)})


def _touch_member_statement():
    """last_activity_at only moves forward: it drives dormancy and inactivity expiry."""
    members = Member.__table__
    return (update(members).where(members.c.id == bindparam("member_id"))
            .where((members.c.last_activity_at.is_(None)) | (members.c.last_activity_at < bindparam("at")))
            .values(last_activity_at=bindparam("at")))


_TOUCH_MEMBER = _touch_member_statement()
