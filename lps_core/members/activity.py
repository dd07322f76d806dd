"""Per-member monthly activity counters, moved in the same transaction as each earning or refund.

They are a fact of every bill, like its ledger entry, whatever reads them: the tier upgrade and the
annual evaluation, dormancy and inactivity expiry (through members.last_activity_at), analytics.
So earning counts them itself (bill_activity rides on the bill's own statement) and a refund takes
its share back, and no plugin switch turns them off."""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import BigInteger, Date, Integer, bindparam, column, func, select, table, true, union_all, update
from sqlalchemy.dialects import postgresql, sqlite

from lps_core.ledger.services import Rider
from lps_core.members.models import Member, MemberActivity
from lps_core.timeutil import as_utc

ACTIVITY = MemberActivity.__table__
COUNTERS = ("points", "spend_cents", "nights", "stays", "bills")
# What a tier qualifies on (lps_core.tiers.services.QUALIFYING_COUNTERS), summed over the window.
WINDOW_COUNTERS = ("points", "spend_cents", "nights", "stays")


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


@dataclass(frozen=True)
class InWindow:
    """A member's status and tier and their activity over the tier window, a new bill included:
    what lps_core.tiers.services.upgrade_if_qualified reads, given to it so it need not read it."""

    status: str
    tier_id: int | None
    points: int
    spend_cents: int
    nights: int
    stays: int


def bill_activity(member_id, occurred_at, window, *, points, spend_cents, nights, stays) -> Rider:
    """A new bill's activity as a Rider of ledger.claim_and_credit: counted only when the bill is
    claimed, in the bill's own statement on PostgreSQL, which also reads the member in `window`
    (start, end) back as an InWindow. Elsewhere the counters move in statements of their own, and
    it gives None (the upgrade check then reads the window itself)."""
    month = month_of(occurred_at)
    params = {"member_id": member_id, "month": month, "points": points, "spend_cents": spend_cents,
              "nights": nights, "stays": stays, "bills": 1, "touch_at": as_utc(occurred_at),
              "start": window[0], "end": window[1]}
    return Rider(
        shape="member_activity", params={f"act_{name}": value for name, value in params.items()},
        attach=_ride_on_bill, read=_in_window,
        run=lambda db: record_activity(db, member_id, occurred_at, points=points, spend_cents=spend_cents,
                                       nights=nights, stays=stays, bills=1))


def record_activity(db, member_id, occurred_at, *, points=0, spend_cents=0, nights=0, stays=0, bills=0):
    """Add to (or, with negative numbers for a refund, take from) the member's month; a new bill
    also moves the member's last activity forward."""
    params = {"member_id": member_id, "month": month_of(occurred_at), "points": points, "spend_cents": spend_cents,
              "nights": nights, "stays": stays, "bills": bills}
    dialect = db.get_bind().dialect.name
    touch = {"touch_member_id": member_id, "touch_at": as_utc(occurred_at)}
    if bills > 0 and dialect == "postgresql":
        db.execute(UPSERT_AND_TOUCH, {**params, **touch})
        return
    db.execute(UPSERT[dialect], params)
    if bills > 0:
        db.execute(_TOUCH_MEMBER, touch)


def _touch_member_statement(member_id=None, at=None):
    """last_activity_at only moves forward: it drives dormancy and inactivity expiry. It is not a
    change of the member the website syncs (lps_core.website.sync), so the statement names the
    table without members.updated_at's onupdate: the stamp keeps its value, and the earn
    statement carries nothing more (psycopg caches statements up to 4,096 characters)."""
    members = _TOUCHED
    member_id = bindparam("touch_member_id") if member_id is None else member_id
    at = bindparam("touch_at") if at is None else at
    return (update(members).where(members.c.id == member_id)
            .where((members.c.last_activity_at.is_(None)) | (members.c.last_activity_at < at))
            .values(last_activity_at=at))


# The columns of members that the touch reads and writes, without the table's column defaults.
_TOUCHED = table("members", column("id", Integer), column("last_activity_at", Member.__table__.c.last_activity_at.type))


_TOUCH_MEMBER = _touch_member_statement()

# PostgreSQL: the touch rides along with the upsert as a data-modifying CTE, saving a round trip on
# every bill. Its parameters are named unlike any column of either table, since an INSERT or UPDATE
# takes such a parameter as a value to set.
UPSERT_AND_TOUCH = UPSERT["postgresql"].add_cte(_TOUCH_MEMBER.cte("touched"))


def _ride_on_bill(statement, claimed):
    """The upsert and the touch as CTEs of the claim-and-credit statement that act only when the
    claim inserted the bill, and the member in the window as columns of its row (status, tier_id
    and the counters' sums).

    Its parameters are all prefixed `act_`, unlike any column of the tables the statement
    writes (see lps_core.ledger.services). The SELECT sees the database as it was when the statement
    began, so the bill's own month comes from the upsert's RETURNING (its counters after this bill,
    and after any bill of the same month committed meanwhile) and the other months of the window
    from the table."""
    def param(name, type_):
        return bindparam(f"act_{name}", type_=type_)

    member_id, month = param("member_id", Integer), param("month", Date)
    start, end = param("start", Date), param("end", Date)
    upsert = postgresql.insert(ACTIVITY).from_select(
        ["member_id", "month", *COUNTERS],
        select(member_id, month, *(param(name, BigInteger) for name in COUNTERS)).select_from(claimed))
    upserted = (upsert.on_conflict_do_update(index_elements=["member_id", "month"],
                                             set_={name: ACTIVITY.c[name] + upsert.excluded[name] for name in COUNTERS})
                .returning(ACTIVITY.c.month, *(ACTIVITY.c[name] for name in WINDOW_COUNTERS)).cte("upserted"))
    touched = (_touch_member_statement(member_id, param("touch_at", Member.__table__.c.last_activity_at.type))
               .where(select(claimed.c.id).exists()).cte("touched"))
    members = Member.__table__
    # Kept short: psycopg caches a statement's conversion only up to 4,096 characters.
    held = ACTIVITY.alias("held")
    months = union_all(
        select(*(held.c[name] for name in WINDOW_COUNTERS)).where(
            held.c.member_id == member_id, held.c.month >= start, held.c.month < end, held.c.month != month),
        select(*(upserted.c[name] for name in WINDOW_COUNTERS)).where(upserted.c.month >= start, upserted.c.month < end),
    ).subquery("months")
    sums = select(*(func.sum(months.c[name]).label(name) for name in WINDOW_COUNTERS)).subquery("sums")
    return (statement.add_cte(upserted).add_cte(touched)
            .outerjoin(members, members.c.id == member_id).outerjoin(sums, true())
            .add_columns(members.c.status, members.c.tier_id, *sums.c))


def _in_window(columns) -> InWindow | None:
    """From the claim's columns by name (its row's mapping)."""
    if columns["status"] is None:
        return None
    return InWindow(columns["status"], columns["tier_id"], *(int(columns[name] or 0) for name in WINDOW_COUNTERS))
