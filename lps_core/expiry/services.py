"""The set-based SQL of points expiry, for one batch of accounts at a time.

Which lots expire at a moment `now`:
- every lot with points left whose `expires_at` is at or before `now` (the lot policies, whose date
  was fixed when the points were earned);
- with inactivity expiry on, every lot with points left of a member whose last activity (or, with
  none yet, their approval) is at or before `inactive_before`.

Expiring an account's lots is one ledger entry of kind 'expiry' per account and run, keyed
'expiry:<account id>:<run key>', with one lot allocation per lot it empties; the account's balance
moves by the same amount in the same transaction, so balance = entries = lots still holds.

On PostgreSQL the caller's batch is first locked (accounts FOR UPDATE, in id order, as the ledger
service locks: account before lots); then two statements of data-modifying CTEs move the balances
and append the entries, then empty the lots and record the allocations. SQLite has no data-modifying
CTEs; it runs the same steps one statement at a time, inside the database-wide write lock that
BEGIN IMMEDIATE already holds.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Integer,
    String,
    and_,
    any_,
    bindparam,
    cast,
    exists,
    func,
    insert,
    literal,
    not_,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from lps_core.expiry.models import ExpiryWarning
from lps_core.ledger.models import POINTS, Account, LedgerEntry, LotAllocation, PointLot
from lps_core.ledger.services import fingerprint_of
from lps_core.members.models import Member
from lps_core.timeutil import add_months, as_utc, isoformat, utcnow

ACCOUNTS = Account.__table__
ENTRIES = LedgerEntry.__table__
LOTS = PointLot.__table__
ALLOCATIONS = LotAllocation.__table__
MEMBERS = Member.__table__
WARNINGS = ExpiryWarning.__table__

EXPIRY = "expiry"
MOMENT = DateTime(timezone=True)


@dataclass(frozen=True)
class Evaluation:
    """One run's moment and rules: what expires, what is warned about, and the entries' identity."""

    now: datetime
    run_key: str
    inactive_before: datetime | None  # None: inactivity expiry is off
    warn_until: datetime | None  # None: no warnings

    @classmethod
    def at(cls, now, policy, warning_days) -> "Evaluation":
        now = as_utc(now)
        inactive_before = add_months(now, -policy.inactivity_months) if policy.inactivity_months else None
        warn_until = now + timedelta(days=warning_days) if warning_days else None
        return cls(now, now.date().isoformat(), inactive_before, warn_until)

    @property
    def fingerprint(self) -> str:
        """The content every entry of this run shares: kind, run and moment (the amount follows from the lots)."""
        return fingerprint_of({"kind": EXPIRY, "run_key": self.run_key, "now": isoformat(self.now),
                               "inactive_before": self.inactive_before and isoformat(self.inactive_before)})

    @property
    def note(self) -> str:
        return f"points expired by expiry run {self.run_key}"

    def business_key(self, account_id_column):
        return literal("expiry:") + cast(account_id_column, String) + literal(f":{self.run_key}")


@dataclass
class Totals:
    accounts: int = 0
    lots: int = 0
    points: int = 0
    warnings: int = 0

    def add(self, other: "Totals"):
        self.accounts += other.accounts
        self.lots += other.lots
        self.points += other.points
        self.warnings += other.warnings


@dataclass(frozen=True)
class Batch:
    """The `size` accounts with after_id < id <= last_id."""

    after_id: int
    last_id: int
    size: int

    def holds(self, column):
        return and_(column > self.after_id, column <= self.last_id)


@dataclass(frozen=True)
class NewWarning:
    id: int
    account_id: int
    member_id: int | None
    points: int
    expires_on: object


# ------------------------------------------------------------------ batches


def batch_after(db, after_id, size) -> Batch | None:
    """The next `size` accounts after `after_id`, as an id range; None when none are left."""
    last_id = db.scalar(select(ACCOUNTS.c.id).where(ACCOUNTS.c.id > after_id)
                        .order_by(ACCOUNTS.c.id).offset(size - 1).limit(1))
    if last_id is not None:
        return Batch(after_id, last_id, size)
    last_id, rest = db.execute(select(func.max(ACCOUNTS.c.id), func.count()).where(ACCOUNTS.c.id > after_id)).one()
    return None if last_id is None else Batch(after_id, last_id, rest)


def count_accounts_after(db, after_id) -> int:
    return db.scalar(select(func.count()).select_from(ACCOUNTS).where(ACCOUNTS.c.id > after_id))


# ------------------------------------------------------------------ predicates


def _inactive_accounts(ev: Evaluation, batch: Batch):
    """Points accounts of the batch whose member has been inactive since before `inactive_before`."""
    last_seen = func.coalesce(MEMBERS.c.last_activity_at, MEMBERS.c.approved_at)
    return (select(ACCOUNTS.c.id).join(MEMBERS, MEMBERS.c.id == ACCOUNTS.c.member_id)
            .where(batch.holds(ACCOUNTS.c.id), ACCOUNTS.c.kind == POINTS,
                   last_seen <= bindparam("inactive_before", ev.inactive_before, type_=MOMENT)))


def _expiring_lot(ev: Evaluation, batch: Batch, account_ids=None):
    """The WHERE clause of the lots that expire now, in the batch (or among `account_ids`)."""
    in_scope = batch.holds(LOTS.c.account_id)
    if account_ids is not None:
        in_scope = and_(in_scope, LOTS.c.account_id == any_(bindparam("ids", account_ids,
                                                                      type_=postgresql.ARRAY(Integer))))
    due = LOTS.c.expires_at <= bindparam("now", ev.now, type_=MOMENT)
    if ev.inactive_before is not None:
        due = or_(due, LOTS.c.account_id.in_(_inactive_accounts(ev, batch)))
    return and_(in_scope, LOTS.c.remaining > 0, due)


def _warned_lot(ev: Evaluation, batch: Batch):
    """Lots with points left that expire after now and within the warning window, of active members."""
    clause = and_(batch.holds(LOTS.c.account_id), LOTS.c.remaining > 0,
                  LOTS.c.expires_at > bindparam("now", ev.now, type_=MOMENT),
                  LOTS.c.expires_at <= bindparam("warn_until", ev.warn_until, type_=MOMENT))
    if ev.inactive_before is not None:
        clause = and_(clause, not_(LOTS.c.account_id.in_(_inactive_accounts(ev, batch))))
    return clause


def _expires_on(dialect_name):
    if dialect_name == "postgresql":
        return cast(func.timezone("UTC", LOTS.c.expires_at), Date)
    return func.date(LOTS.c.expires_at)


def _warnings_due(ev: Evaluation, batch: Batch, dialect_name):
    expires_on = _expires_on(dialect_name)
    return (
        select(LOTS.c.account_id, ACCOUNTS.c.member_id,
               cast(func.sum(LOTS.c.remaining), BigInteger).label("points"), expires_on.label("expires_on"))
        .join(ACCOUNTS, ACCOUNTS.c.id == LOTS.c.account_id)
        .where(_warned_lot(ev, batch))
        .group_by(LOTS.c.account_id, ACCOUNTS.c.member_id, expires_on)
    )


# ------------------------------------------------------------------ reading (dry run)


def measure_expiry(db, ev: Evaluation, batch: Batch) -> Totals:
    """Accounts, lots and points that expire in the batch, changing nothing."""
    row = db.execute(
        select(func.count(LOTS.c.account_id.distinct()), func.count(),
               func.coalesce(func.sum(LOTS.c.remaining), 0))
        .where(_expiring_lot(ev, batch))
    ).one()
    return Totals(int(row[0]), int(row[1]), int(row[2]))


def count_new_warnings(db, ev: Evaluation, batch: Batch) -> int:
    """Warnings the batch would write: account and expiry date pairs not warned about before."""
    if ev.warn_until is None:
        return 0
    due = _warnings_due(ev, batch, db.get_bind().dialect.name).subquery()
    already = exists().where(WARNINGS.c.account_id == due.c.account_id, WARNINGS.c.expires_on == due.c.expires_on)
    return db.scalar(select(func.count()).select_from(due).where(~already))


# ------------------------------------------------------------------ writing


def lock_accounts_to_expire(db, ev: Evaluation, batch: Batch) -> list[int]:
    """PostgreSQL: lock, in id order, the batch's accounts that have points to expire; return their ids."""
    has_due_lot = exists().where(LOTS.c.account_id == ACCOUNTS.c.id, LOTS.c.remaining > 0,
                                 LOTS.c.expires_at <= bindparam("now", ev.now, type_=MOMENT))
    if ev.inactive_before is not None:
        has_due_lot = or_(has_due_lot, and_(ACCOUNTS.c.balance > 0, ACCOUNTS.c.id.in_(_inactive_accounts(ev, batch))))
    return list(db.scalars(
        select(ACCOUNTS.c.id).where(batch.holds(ACCOUNTS.c.id), ACCOUNTS.c.kind == POINTS, has_due_lot)
        .order_by(ACCOUNTS.c.id).with_for_update(of=ACCOUNTS)
    ))


def expire_batch(db, ev: Evaluation, batch: Batch) -> Totals:
    """Expire the batch's due lots: entries, allocations, emptied lots and balances, all in the caller's
    transaction. Returns accounts, lots and points expired (warnings are written separately)."""
    if db.get_bind().dialect.name == "postgresql":
        account_ids = lock_accounts_to_expire(db, ev, batch)
        if not account_ids:
            return Totals()
        return _expire_in_two_statements(db, ev, batch, account_ids)
    return _expire_step_by_step(db, ev, batch)


def _entry_columns():
    return ["account_id", "kind", "amount", "balance_after", "business_key", "fingerprint", "occurred_at",
            "created_at", "note"]


def _expire_in_two_statements(db, ev, batch, account_ids) -> Totals:
    """Two statements, each joining its CTEs only to real tables by index, never CTE to CTE (whose
    row counts the planner cannot estimate, which made it pick quadratic nested loops):
    1. sum the due lots per account, move the balances and append the entries;
    2. empty the due lots and allocate them to the entries, found by their business keys."""
    due = _expiring_lot(ev, batch, account_ids)
    totals = (select(LOTS.c.account_id, cast(func.sum(LOTS.c.remaining), BigInteger).label("points"))
              .where(due).group_by(LOTS.c.account_id).cte("totals"))
    moved = (update(ACCOUNTS).where(ACCOUNTS.c.id == totals.c.account_id)
             .values(balance=ACCOUNTS.c.balance - totals.c.points)
             .returning(ACCOUNTS.c.id, ACCOUNTS.c.balance, totals.c.points).cte("moved"))
    entries = (
        insert(ENTRIES).from_select(_entry_columns(), select(
            moved.c.id, literal(EXPIRY), -moved.c.points, moved.c.balance, ev.business_key(moved.c.id),
            literal(ev.fingerprint), bindparam("occurred_at", ev.now, type_=MOMENT),
            bindparam("created_at", utcnow(), type_=MOMENT), literal(ev.note),
        ))
        .returning(ENTRIES.c.amount).cte("entries")
    )
    accounts, points = db.execute(
        select(func.count(), func.coalesce(-func.sum(entries.c.amount), 0)).select_from(entries)).one()
    expiring = (select(LOTS.c.id.label("lot_id"), LOTS.c.account_id, LOTS.c.remaining)
                .where(due).cte("expiring"))
    emptied = (update(LOTS).where(LOTS.c.id == expiring.c.lot_id).values(remaining=0)
               .returning(LOTS.c.id).cte("emptied"))
    allocated = (
        insert(ALLOCATIONS).from_select(["entry_id", "lot_id", "amount"], select(
            ENTRIES.c.id, expiring.c.lot_id, expiring.c.remaining,
        ).select_from(expiring.join(ENTRIES, ENTRIES.c.business_key == ev.business_key(expiring.c.account_id))))
        .returning(ALLOCATIONS.c.id).cte("allocated")
    )
    lots = db.scalar(select(func.count()).select_from(emptied).add_cte(allocated))
    return Totals(int(accounts), int(lots), int(points))


def _expire_step_by_step(db, ev, batch) -> Totals:
    """The portable equivalent: aggregate, append entries, allocate, move balances, empty lots."""
    measured = measure_expiry(db, ev, batch)
    if not measured.lots:
        return Totals()
    due = select(LOTS.c.account_id, LOTS.c.remaining).where(_expiring_lot(ev, batch)).subquery("due")
    points = cast(func.sum(due.c.remaining), BigInteger)
    db.execute(insert(ENTRIES).from_select(_entry_columns(), select(
        ACCOUNTS.c.id, literal(EXPIRY), -points, ACCOUNTS.c.balance - points, ev.business_key(ACCOUNTS.c.id),
        literal(ev.fingerprint), bindparam("occurred_at", ev.now, type_=MOMENT),
        bindparam("created_at", utcnow(), type_=MOMENT), literal(ev.note),
    ).select_from(ACCOUNTS.join(due, due.c.account_id == ACCOUNTS.c.id)).group_by(ACCOUNTS.c.id, ACCOUNTS.c.balance)))
    db.execute(insert(ALLOCATIONS).from_select(["entry_id", "lot_id", "amount"], select(
        ENTRIES.c.id, LOTS.c.id, LOTS.c.remaining,
    ).select_from(LOTS.join(ENTRIES, ENTRIES.c.business_key == ev.business_key(LOTS.c.account_id)))
        .where(_expiring_lot(ev, batch))))
    entry_amount = (select(ENTRIES.c.amount).where(ENTRIES.c.business_key == ev.business_key(ACCOUNTS.c.id))
                    .scalar_subquery())
    db.execute(update(ACCOUNTS).where(batch.holds(ACCOUNTS.c.id), ACCOUNTS.c.kind == POINTS,
                                      exists().where(ENTRIES.c.business_key == ev.business_key(ACCOUNTS.c.id)))
               .values(balance=ACCOUNTS.c.balance + entry_amount))
    db.execute(update(LOTS).where(_expiring_lot(ev, batch)).values(remaining=0))
    return Totals(measured.accounts, measured.lots, measured.points)


def write_warnings(db, ev: Evaluation, batch: Batch, *, notified_at=None) -> list[NewWarning] | int:
    """Write one warning per account and expiry date of the batch, skipping those written before.

    With `notified_at` (the caller notifies listeners in this transaction) the new rows carry it and
    are returned; without, only their number is returned."""
    if ev.warn_until is None:
        return [] if notified_at else 0
    dialect_name = db.get_bind().dialect.name
    due = _warnings_due(ev, batch, dialect_name).add_columns(
        bindparam("created_at", utcnow(), type_=MOMENT), bindparam("notified_at", notified_at, type_=MOMENT))
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    statement = (dialect.insert(WARNINGS)
                 .from_select(["account_id", "member_id", "points", "expires_on", "created_at", "notified_at"], due)
                 .on_conflict_do_nothing(index_elements=["account_id", "expires_on"]))
    if notified_at is None:
        if dialect_name == "postgresql":  # psycopg reports no row count for INSERT ... SELECT ... ON CONFLICT
            written = statement.returning(WARNINGS.c.id).cte("written")
            return db.scalar(select(func.count()).select_from(written))
        return db.execute(statement).rowcount
    rows = db.execute(statement.returning(WARNINGS.c.id, WARNINGS.c.account_id, WARNINGS.c.member_id,
                                          WARNINGS.c.points, WARNINGS.c.expires_on)).all()
    return [NewWarning(*row) for row in rows]
