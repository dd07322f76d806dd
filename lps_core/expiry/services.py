"""The set-based SQL of points expiry, for one batch of accounts at a time.

Which lots expire at a moment `now`:
- every lot with points left whose `expires_at` is at or before `now` (the lot policies, whose date
  was fixed when the points were earned);
- with inactivity expiry on, every lot with points left of a member whose last activity (or, with
  none yet, their approval) is at or before `inactive_before`.

Expiring an account's lots is one ledger entry of kind 'expiry' per account and run, keyed
'expiry:<account id>:<run key>'; the lots it empties drop to 0 remaining and the account's balance
moves by the same amount in the same transaction, so balance = entries = lots still holds. It
writes no lot allocations: every lot with points left that is due empties whole, so the entry's
amount is the sum of what they held, and points given back after an appeal go into a new lot
(`reinstate`), never into the emptied ones, so nothing needs to know which lot gave how much.

On PostgreSQL the caller's batch is first locked (accounts FOR UPDATE, in id order, as the ledger
service locks: account before lots); then one statement of data-modifying CTEs sums and empties the
lots, moves the balances and appends the entries. SQLite has no data-modifying CTEs; it runs the
same steps one statement at a time, inside the database-wide write lock that BEGIN IMMEDIATE
already holds.
"""
from dataclasses import dataclass, replace
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

from lps_core.db.idempotency import replay_or_conflict
from lps_core.errors import Conflict, NotFound, ValidationFailed
from lps_core.expiry.models import ExpiryWarning
from lps_core.ledger import services as ledger
from lps_core.ledger.models import POINTS, Account, LedgerEntry, PointLot
from lps_core.ledger.services import Posting, fingerprint_of
from lps_core.members.models import Member
from lps_core.timeutil import add_months, as_utc, isoformat, utcnow

ACCOUNTS = Account.__table__
ENTRIES = LedgerEntry.__table__
LOTS = PointLot.__table__
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
    """The `size` accounts with after_id < id <= last_id; on PostgreSQL with inactivity expiry on,
    `inactive_ids` are those of them whose member is inactive, read once in the batch's transaction
    (with_inactive_ids)."""

    after_id: int
    last_id: int
    size: int
    inactive_ids: tuple[int, ...] | None = None

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
    last_id, rest = db.execute(select(func.max(ACCOUNTS.c.id), func.count())
                               .where(ACCOUNTS.c.id > after_id)).one()
    return None if last_id is None else Batch(after_id, last_id, rest)


def with_inactive_ids(db, ev: Evaluation, batch: Batch) -> Batch:
    """On PostgreSQL with inactivity expiry on, the batch with its inactive accounts' ids, read in
    the transaction that uses them (see `_is_inactive`); otherwise the batch as it is."""
    if ev.inactive_before is None or db.get_bind().dialect.name != "postgresql":
        return batch
    return replace(batch, inactive_ids=tuple(db.scalars(_inactive_accounts(ev, batch))))


def count_accounts_after(db, after_id) -> int:
    return db.scalar(select(func.count()).select_from(ACCOUNTS).where(ACCOUNTS.c.id > after_id))


# ------------------------------------------------------------------ predicates


def _inactive_accounts(ev: Evaluation, batch: Batch):
    """Points accounts of the batch whose member has been inactive since before `inactive_before`."""
    last_seen = func.coalesce(MEMBERS.c.last_activity_at, MEMBERS.c.approved_at)
    return (select(ACCOUNTS.c.id).join(MEMBERS, MEMBERS.c.id == ACCOUNTS.c.member_id)
            .where(batch.holds(ACCOUNTS.c.id), ACCOUNTS.c.kind == POINTS,
                   last_seen <= bindparam("inactive_before", ev.inactive_before, type_=MOMENT)))


def _is_inactive(ev: Evaluation, batch: Batch, account_id):
    """`account_id` is a points account of the batch whose member is inactive. With the ids read when
    the batch was taken, each statement tests a list instead of scanning the members again: at
    1,000,000 members that scan took 0.2 s, and each batch of the expiry job ran it four times."""
    if batch.inactive_ids is not None:
        # IN (SELECT unnest(...)), not = ANY(...): a hashed subplan, where = ANY searches the list
        # row by row once psycopg prepares the statement and PostgreSQL plans it generically.
        ids = bindparam("inactive_ids", list(batch.inactive_ids), type_=postgresql.ARRAY(Integer))
        return account_id.in_(select(func.unnest(ids)))
    return account_id.in_(_inactive_accounts(ev, batch))


def _expiring_lot(ev: Evaluation, batch: Batch, account_ids=None):
    """The WHERE clause of the lots that expire now, in the batch (or among `account_ids`)."""
    in_scope = batch.holds(LOTS.c.account_id)
    if account_ids is not None:
        in_scope = and_(in_scope, LOTS.c.account_id == any_(bindparam("ids", account_ids,
                                                                      type_=postgresql.ARRAY(Integer))))
    due = LOTS.c.expires_at <= bindparam("now", ev.now, type_=MOMENT)
    if ev.inactive_before is not None:
        due = or_(due, _is_inactive(ev, batch, LOTS.c.account_id))
    return and_(in_scope, LOTS.c.remaining > 0, due)


def _warned_lot(ev: Evaluation, batch: Batch):
    """Lots with points left that expire after now and within the warning window, of active members."""
    clause = and_(batch.holds(LOTS.c.account_id), LOTS.c.remaining > 0,
                  LOTS.c.expires_at > bindparam("now", ev.now, type_=MOMENT),
                  LOTS.c.expires_at <= bindparam("warn_until", ev.warn_until, type_=MOMENT))
    if ev.inactive_before is not None:
        clause = and_(clause, not_(_is_inactive(ev, batch, LOTS.c.account_id)))
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
    """PostgreSQL: lock, in id order, the batch's accounts that have points to expire; return their ids.

    The due lots are bounded by the batch's range as well as by their account: under the OR the
    planner makes the EXISTS a hashed subplan, and with psycopg's prepared (generic) plan, which
    cannot tell how many lots are due, it hashed every due lot of the programme, a sequential scan of
    all lots for each batch (0.6 s at 1,000,000 members, a third of the job; bench/README.md)."""
    has_due_lot = exists().where(LOTS.c.account_id == ACCOUNTS.c.id, batch.holds(LOTS.c.account_id),
                                 LOTS.c.remaining > 0, LOTS.c.expires_at <= bindparam("now", ev.now, type_=MOMENT))
    if ev.inactive_before is not None:
        has_due_lot = or_(has_due_lot, and_(ACCOUNTS.c.balance > 0, _is_inactive(ev, batch, ACCOUNTS.c.id)))
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
        return _expire_in_one_statement(db, ev, batch, account_ids)
    return _expire_step_by_step(db, ev, batch)


def _entry_columns():
    return ["account_id", "account_kind", "kind", "amount", "balance_after", "business_key", "fingerprint",
            "occurred_at", "created_at", "note"]


def _expire_in_one_statement(db, ev, batch, account_ids) -> Totals:
    """One statement of data-modifying CTEs over the locked accounts: sum the due lots per account,
    empty them, move the balances and append the entries. Every CTE reads the statement's one
    snapshot, so the lots summed are the lots emptied (their accounts are locked, so nothing else
    moves them meanwhile). The only join is of the per-account sums to `accounts` by primary key:
    never CTE to CTE, whose row counts the planner cannot estimate (that made it pick quadratic
    nested loops)."""
    due = _expiring_lot(ev, batch, account_ids)
    totals = (select(LOTS.c.account_id, func.count().label("lots"),
                     cast(func.sum(LOTS.c.remaining), BigInteger).label("points"))
              .where(due).group_by(LOTS.c.account_id).cte("totals"))
    emptied = update(LOTS).where(due).values(remaining=0).returning(LOTS.c.id).cte("emptied")
    moved = (update(ACCOUNTS).where(ACCOUNTS.c.id == totals.c.account_id)
             .values(balance=ACCOUNTS.c.balance - totals.c.points)
             .returning(ACCOUNTS.c.id, ACCOUNTS.c.balance, totals.c.points).cte("moved"))
    entries = (
        insert(ENTRIES).from_select(_entry_columns(), select(
            moved.c.id, literal(POINTS), literal(EXPIRY), -moved.c.points, moved.c.balance, ev.business_key(moved.c.id),
            literal(ev.fingerprint), bindparam("occurred_at", ev.now, type_=MOMENT),
            bindparam("created_at", utcnow(), type_=MOMENT), literal(ev.note),
        ))
        .returning(ENTRIES.c.amount).cte("entries")
    )
    lots = select(func.count()).select_from(emptied).scalar_subquery()
    accounts, points, lots = db.execute(
        select(func.count(), func.coalesce(-func.sum(entries.c.amount), 0), lots).select_from(entries)).one()
    return Totals(int(accounts), int(lots), int(points))


def _expire_step_by_step(db, ev, batch) -> Totals:
    """The portable equivalent: aggregate, append entries, move balances, empty lots."""
    measured = measure_expiry(db, ev, batch)
    if not measured.lots:
        return Totals()
    due = select(LOTS.c.account_id, LOTS.c.remaining).where(_expiring_lot(ev, batch)).subquery("due")
    points = cast(func.sum(due.c.remaining), BigInteger)
    db.execute(insert(ENTRIES).from_select(_entry_columns(), select(
        ACCOUNTS.c.id, literal(POINTS), literal(EXPIRY), -points, ACCOUNTS.c.balance - points, ev.business_key(ACCOUNTS.c.id),
        literal(ev.fingerprint), bindparam("occurred_at", ev.now, type_=MOMENT),
        bindparam("created_at", utcnow(), type_=MOMENT), literal(ev.note),
    ).select_from(ACCOUNTS.join(due, due.c.account_id == ACCOUNTS.c.id)).group_by(ACCOUNTS.c.id, ACCOUNTS.c.balance)))
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


# ------------------------------------------------------------------ reinstating expired points


REINSTATEMENT = "reversal"


def reinstate(db, entry_id, amount=None, *, expires_at, business_key, fingerprint, occurred_at=None,
              note=None) -> Posting:
    """Give back points that an expiry entry took (after an appeal, or a run made in error): a
    reversal entry linked to the expiry entry (`reverses_id`), the balance moved up by `amount`
    (default: all not given back yet) and a new lot of those points that expires at `expires_at`.

    The points go into a lot of their own, not back into the lots the run emptied: those are past
    their date (or their member was inactive), so the next run would expire them again. Hence the
    expiry job needs no lot allocations: nothing reads them to give expired points back. A replayed
    business key returns the first posting; more than is left to give back is a Conflict."""
    original = db.execute(select(ENTRIES.c.id, ENTRIES.c.account_id, ENTRIES.c.account_kind, ENTRIES.c.kind,
                                 ENTRIES.c.amount).where(ENTRIES.c.id == entry_id)).one_or_none()
    if original is None:
        raise NotFound(f"ledger entry {entry_id} does not exist")
    if original.kind != EXPIRY:
        raise Conflict(f"ledger entry {entry_id} is a {original.kind!r} entry, not an expiry",
                       {"entry_id": "not an expiry entry"})
    ledger.lock_account(db, original.account_id)
    replayed = db.execute(select(ENTRIES.c.id, ENTRIES.c.account_id, ENTRIES.c.amount, ENTRIES.c.balance_after,
                                 ENTRIES.c.fingerprint).where(ENTRIES.c.business_key == business_key)).one_or_none()
    if replayed is not None:
        replay_or_conflict(replayed.fingerprint, fingerprint, f"{business_key!r} was already posted with other content",
                           {"business_key": "already used with other content"})
        return ledger.Posting(replayed.id, replayed.account_id, replayed.amount, replayed.balance_after, replayed=True)
    left = ledger.reversible_amount(db, original)
    amount = left if amount is None else amount
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValidationFailed("amount must be a positive integer", {"amount": "must be a positive integer"})
    if amount > left:
        raise Conflict(f"only {left} of expiry entry {entry_id} is left to reinstate, not {amount}",
                       {"amount": f"at most {left} can be reinstated"})
    occurred_at = as_utc(occurred_at or utcnow())
    expires_at = as_utc(expires_at)
    if expires_at <= occurred_at:
        raise ValidationFailed("the reinstated points must expire after they are given back",
                               {"expires_at": "must be after occurred_at"})
    balance = db.scalar(update(ACCOUNTS).where(ACCOUNTS.c.id == original.account_id)
                        .values(balance=ACCOUNTS.c.balance + amount).returning(ACCOUNTS.c.balance))
    reversal_id = db.scalar(insert(ENTRIES).values(
        account_id=original.account_id, account_kind=original.account_kind, kind=REINSTATEMENT, amount=amount,
        balance_after=balance,
        business_key=business_key, fingerprint=fingerprint, reverses_id=original.id, occurred_at=occurred_at,
        created_at=utcnow(), note=note).returning(ENTRIES.c.id))
    db.execute(insert(LOTS).values(account_id=original.account_id, entry_id=reversal_id, amount=amount,
                                   remaining=amount, expires_at=expires_at))
    return ledger.Posting(reversal_id, original.account_id, amount, balance)
