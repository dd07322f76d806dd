"""The one ledger mechanism for points and stored value.

Rules kept here, for every account kind:
- entries are only ever inserted; a correction is a reversal entry linked to the original;
- each entry has a unique business key: replaying a key returns the first posting, the same key with
  other content (another fingerprint) is a Conflict;
- the account row's balance moves in the same statement sequence as the entry, in one transaction,
  and a CHECK constraint keeps it from going below zero;
- each entry carries its account's kind (account_kind), copied at posting, so that reports select
  a kind's entries without joining them to their accounts;
- points live in lots with an expiry date: debits take the oldest-expiring lots first, and the sum of
  the lots' remaining points equals the balance.

Lock order is always bill (if any) -> account -> lots, so concurrent requests cannot deadlock.
"""
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Integer, bindparam, func, insert, select, true, update
from sqlalchemy.dialects import postgresql, sqlite

from lps_core.db.idempotency import claim, replay_or_conflict
from lps_core.errors import Conflict, InsufficientBalance, NotFound, ValidationFailed
from lps_core.ledger.models import POINTS, Account, LedgerEntry, LotAllocation, PointLot
from lps_core.timeutil import as_utc, utcnow

# Writes go through the Core tables: the ORM's bulk-DML path cost a fifth of the earn endpoint.
ACCOUNTS = Account.__table__
ENTRIES = LedgerEntry.__table__
LOTS = PointLot.__table__
ALLOCATIONS = LotAllocation.__table__

# The statements of the hot path are built once; each call only binds its values.
MOVE_BALANCE = (
    update(ACCOUNTS).where(ACCOUNTS.c.id == bindparam("account_id"))
    .values(balance=ACCOUNTS.c.balance + bindparam("delta", type_=BigInteger)).returning(ACCOUNTS.c.balance)
)
INSERT_ENTRY = insert(ENTRIES).returning(ENTRIES.c.id)
INSERT_LOT = insert(LOTS)
# A credit reverses nothing, so its statement leaves reverses_id NULL.
ENTRY_VALUES = ("account_id", "account_kind", "kind", "amount", "business_key", "fingerprint", "outlet_id",
                "bill_id", "occurred_at", "created_at", "breakdown", "note")


def _credit_in_one_statement(claimed=None):
    """PostgreSQL only: move the balance, append the entry and open its lot in one round trip,
    with data-modifying CTEs. SQLite has none, so it runs the same three steps one by one.

    With `claimed` (the CTE of a bill's claim, see claim_and_credit) nothing moves unless the claim
    inserted its row, and the entry's bill_id is that row's id."""
    # The entry's parameters are prefixed ("e_"): an UPDATE takes any parameter named like one of its
    # table's columns (accounts.kind, accounts.created_at) as a value to SET. The prefixes are short
    # because the earn statement must stay within psycopg's query cache (4,096 characters). Foreign-key
    # columns report no type of their own here, so their parameters are cast explicitly.
    params = {name: bindparam(f"e_{name}", type_=Integer if name.endswith("_id") else ENTRIES.c[name].type)
              for name in ENTRY_VALUES if name != "account_kind"}
    move = MOVE_BALANCE.returning(ACCOUNTS.c.kind)
    if claimed is not None:  # the entry takes the bill's id and times
        move = move.where(select(claimed.c.id).exists())
        params.update(bill_id=claimed.c.id, occurred_at=claimed.c.occurred_at, created_at=claimed.c.created_at)
    moved = move.cte("moved")
    params["account_kind"] = moved.c.kind  # the kind of the very account row the statement moved
    source = select(*params.values(), moved.c.balance)
    if claimed is not None:
        source = source.select_from(claimed.join(moved, true()))
    entry = (
        insert(ENTRIES)
        .from_select([*params, "balance_after"], source)
        .returning(ENTRIES.c.id, ENTRIES.c.balance_after).cte("entry")
    )
    lot = insert(LOTS).from_select(
        ["account_id", "entry_id", "amount", "remaining", "expires_at"],
        select(bindparam("account_id", type_=Integer), entry.c.id, params["amount"], params["amount"],
               bindparam("expires_at", type_=LOTS.c.expires_at.type))
        .where(bindparam("open_lot", type_=Boolean)),
    ).cte("lot")
    if claimed is None:
        return select(entry.c.id, entry.c.balance_after).add_cte(lot)
    return (select(claimed.c.id.label("claimed_id"), entry.c.id, entry.c.balance_after)
            .select_from(claimed.outerjoin(entry, true())).add_cte(lot))


CREDIT_IN_ONE_STATEMENT = _credit_in_one_statement()

EARN = "earn"
DEBIT = "debit"
REVERSAL = "reversal"
EXPIRY = "expiry"  # written by lps_core.expiry


@dataclass(frozen=True)
class Posting:
    """What a posting did; `replayed` is true when the business key had already been posted."""

    entry_id: int
    account_id: int
    amount: int
    balance_after: int
    replayed: bool = False


def fingerprint_of(content) -> str:
    """A stable hash of a request's content, to tell a replay from a conflicting reuse of a key."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def get_or_create_account(db, kind, *, member_id=None, card_id=None) -> int:
    """The owner's account of `kind`, opened on first use. Two requests opening it at once both
    get the one account: the loser's insert does nothing and it reads the winner's row."""
    owner = Account.member_id == member_id if member_id is not None else Account.card_id == card_id
    find = select(Account.id).where(owner, Account.kind == kind)
    account_id = db.scalar(find)
    if account_id is None:
        unique_columns = ["member_id" if member_id is not None else "card_id", "kind"]
        dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
        db.execute(dialect.insert(ACCOUNTS).values(kind=kind, member_id=member_id, card_id=card_id, balance=0)
                   .on_conflict_do_nothing(index_elements=unique_columns))
        account_id = db.scalar(find)
    return account_id


def lock_account(db, account_id) -> Account:
    """Lock the account row until the transaction ends (FOR UPDATE on PostgreSQL; on SQLite the
    whole database is already held by BEGIN IMMEDIATE)."""
    account = db.execute(
        select(Account.id, Account.kind, Account.balance).where(Account.id == account_id).with_for_update()
    ).one_or_none()
    if account is None:
        raise NotFound(f"account {account_id} does not exist")
    return account


def credit(db, account_id, amount, *, kind, business_key, fingerprint, occurred_at=None,
           expires_at=None, outlet_id=None, bill_id=None, breakdown=None, note=None) -> Posting:
    """Add `amount` (points, or cents of stored value). Points credits need `expires_at` for their lot."""
    _require_positive(amount)
    account = lock_account(db, account_id)
    replay = _replay(db, business_key, fingerprint)
    if replay:
        return replay
    return append_credit(db, account_id, amount, account_kind=account.kind, kind=kind,
                         business_key=business_key, fingerprint=fingerprint, occurred_at=occurred_at,
                         expires_at=expires_at, outlet_id=outlet_id, bill_id=bill_id, breakdown=breakdown,
                         note=note)


def append_credit(db, account_id, amount, *, account_kind, kind, business_key, fingerprint,
                  occurred_at=None, expires_at=None, outlet_id=None, bill_id=None, breakdown=None,
                  note=None) -> Posting:
    """Post a credit whose business key the caller has already claimed (earning claims it by
    inserting the bill row). A zero amount is recorded too, so the history explains every bill."""
    open_lot = account_kind == POINTS and amount > 0
    if open_lot and expires_at is None:
        raise ValueError("a points credit needs the expiry date of its lot")
    if db.get_bind().dialect.name == "postgresql":
        entry = {"account_id": account_id, "kind": kind, "amount": amount, "business_key": business_key,
                 "fingerprint": fingerprint, "outlet_id": outlet_id, "bill_id": bill_id,
                 "occurred_at": as_utc(occurred_at or utcnow()), "created_at": utcnow(), "breakdown": breakdown,
                 "note": note}
        row = db.execute(CREDIT_IN_ONE_STATEMENT, {
            "account_id": account_id, "delta": amount, "expires_at": expires_at, "open_lot": open_lot,
            **{f"e_{name}": value for name, value in entry.items()},
        }).one()
        return Posting(row.id, account_id, amount, row.balance_after)
    balance = _move_balance(db, account_id, amount)
    entry_id = _insert_entry(db, account_id, account_kind, kind, amount, balance, business_key, fingerprint,
                             occurred_at=occurred_at, outlet_id=outlet_id, bill_id=bill_id, breakdown=breakdown,
                             note=note)
    if open_lot:
        db.execute(INSERT_LOT, {"account_id": account_id, "entry_id": entry_id, "amount": amount,
                                "remaining": amount, "expires_at": expires_at})
    return Posting(entry_id, account_id, amount, balance)


@dataclass(frozen=True)
class Rider:
    """More work for claim_and_credit, done only when its claim inserted the row, so that a replayed
    bill does it no second time. On PostgreSQL `attach(statement, claimed)` adds the work's CTEs and
    columns to the claim-and-credit statement (built once per `shape`, `params` bound on each call)
    and `read(columns)` takes them back out of the row's mapping; elsewhere `run(db)` does the same
    work as statements of its own, after the credit. Either way claim_and_credit returns what it gives."""

    shape: str
    params: dict
    attach: Callable
    read: Callable
    run: Callable


# (table, key columns, value names, rider's shape) -> the claim-and-credit statement, built on first use.
_CLAIMS_AND_CREDITS = {}


def claim_and_credit(db, table, key_columns, values, account_id, amount, *, account_kind, kind, business_key,
                     fingerprint, occurred_at=None, expires_at=None, outlet_id=None, breakdown=None,
                     note=None, rider: Rider | None = None) -> tuple[int | None, Posting | None, object]:
    """Claim a bill's row (lps_core.db.idempotency.claim) and post its credit (append_credit) with
    the row's id as the entry's bill_id: (the row's id, the posting, what the rider gave), or
    (None, None, None) when another request claimed the key first and nothing was done. On
    PostgreSQL all of it is one statement: the claim is a CTE that the credit's CTEs, and the
    rider's, only act on when it inserted its row, and the entry takes the row's occurred_at and
    created_at (`table` has both, as bills do)."""
    if db.get_bind().dialect.name != "postgresql":
        row_id = claim(db, table, key_columns, values)
        if row_id is None:
            return None, None, None
        posting = append_credit(db, account_id, amount, account_kind=account_kind, kind=kind,
                                business_key=business_key, fingerprint=fingerprint, occurred_at=occurred_at,
                                expires_at=expires_at, outlet_id=outlet_id, bill_id=row_id,
                                breakdown=breakdown, note=note)
        return row_id, posting, rider.run(db) if rider else None
    open_lot = account_kind == POINTS and amount > 0
    if open_lot and expires_at is None:
        raise ValueError("a points credit needs the expiry date of its lot")
    names = tuple(values)
    shape = (table, key_columns, names, rider.shape if rider else None)
    statement = _CLAIMS_AND_CREDITS.get(shape)
    if statement is None:
        # The claim's parameters are prefixed for the same reason as the entry's (see above).
        claimed = (postgresql.insert(table)
                   .values({name: bindparam(f"c_{name}", type_=Integer if name.endswith("_id")
                                            else table.c[name].type) for name in names})
                   .on_conflict_do_nothing(index_elements=list(key_columns))
                   .returning(table.c.id, table.c.occurred_at, table.c.created_at).cte("claimed"))
        statement = _credit_in_one_statement(claimed)
        if rider:
            statement = rider.attach(statement, claimed)
        _CLAIMS_AND_CREDITS[shape] = statement
    entry = {"account_id": account_id, "kind": kind, "amount": amount, "business_key": business_key,
             "fingerprint": fingerprint, "outlet_id": outlet_id, "breakdown": breakdown, "note": note}
    row = db.connection().execute(statement, {  # Core, on the connection, as find_card (lps_core.cards.services)
        "account_id": account_id, "delta": amount, "expires_at": expires_at, "open_lot": open_lot,
        **{f"e_{name}": value for name, value in entry.items()},
        **{f"c_{name}": value for name, value in values.items()},
        **(rider.params if rider else {}),
    }).one_or_none()
    if row is None:
        return None, None, None
    columns = row._mapping  # by name without a Row attribute's AttributeError (lps_core.cards.services.find_card)
    return (columns["claimed_id"], Posting(columns["id"], account_id, amount, columns["balance_after"]),
            rider.read(columns) if rider else None)


def debit(db, account_id, amount, *, kind=DEBIT, business_key, fingerprint, occurred_at=None,
          outlet_id=None, note=None, now=None) -> Posting:
    """Take `amount` away, oldest-expiring points first; never below zero, whatever runs beside it."""
    _require_positive(amount)
    account = lock_account(db, account_id)
    replay = _replay(db, business_key, fingerprint)
    if replay:
        return replay
    if account.kind == POINTS:
        lots = _lots_for_debit(db, account_id, now or utcnow())
        available = sum(lot.remaining for lot in lots)
    else:
        lots, available = None, account.balance
    if available < amount:
        raise InsufficientBalance(
            f"balance {available} is less than {amount}", {"amount": f"only {available} available"}
        )
    balance = _move_balance(db, account_id, -amount)
    entry_id = _insert_entry(db, account_id, account.kind, kind, -amount, balance, business_key, fingerprint,
                             occurred_at=occurred_at, outlet_id=outlet_id, note=note)
    if lots is not None:
        _take_from_lots(db, entry_id, lots, amount)
    return Posting(entry_id, account_id, -amount, balance)


def reverse(db, entry_id, amount=None, *, business_key, fingerprint, occurred_at=None, note=None) -> Posting:
    """Post a reversal of `amount` (default: all that remains) of an entry, linked to it.

    A reversed credit takes its points back from its own lot first, then from the oldest-expiring
    lots; a reversed debit gives its points back to the lots it took them from. An expiry records
    no lots to give back to (they emptied whole): lps_core.expiry.services.reinstate gives expired
    points back into a new lot, and reversing one here is refused."""
    original = db.get(LedgerEntry, entry_id)
    if original is None:
        raise NotFound(f"ledger entry {entry_id} does not exist")
    if original.kind == EXPIRY:
        raise Conflict(f"entry {entry_id} is an expiry: expired points are reinstated into a new lot, "
                       "not reversed", {"entry_id": "an expiry is reinstated, not reversed"})
    account = lock_account(db, original.account_id)
    replay = _replay(db, business_key, fingerprint)
    if replay:
        return replay
    remaining = reversible_amount(db, original)
    amount = remaining if amount is None else amount
    _require_positive(amount)
    if amount > remaining:
        raise Conflict(
            f"only {remaining} of entry {entry_id} is left to reverse, not {amount}",
            {"amount": f"at most {remaining} can be reversed"},
        )
    delta = -amount if original.amount > 0 else amount
    if delta < 0 and account.balance < amount:
        raise InsufficientBalance(
            f"the account holds {account.balance}, too little to take back {amount}",
            {"amount": f"only {account.balance} left on the account"},
        )
    if account.kind == POINTS and delta < 0:
        lots = _lots_for_clawback(db, original)
    balance = _move_balance(db, original.account_id, delta)
    reversal_id = _insert_entry(db, original.account_id, account.kind, REVERSAL, delta, balance, business_key,
                                fingerprint, occurred_at=occurred_at, outlet_id=original.outlet_id,
                                bill_id=original.bill_id, reverses_id=original.id, note=note)
    if account.kind == POINTS:
        if delta < 0:
            _take_from_lots(db, reversal_id, lots, amount)
        else:
            _give_back_to_lots(db, original.id, reversal_id, amount)
    return Posting(reversal_id, original.account_id, delta, balance)


def reversible_amount(db, original) -> int:
    reversed_so_far = db.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(LedgerEntry.reverses_id == original.id)
    )
    return abs(original.amount) - abs(int(reversed_so_far))  # SUM is NUMERIC on PostgreSQL


def balance_of(db, account_id) -> int:
    return db.scalar(select(Account.balance).where(Account.id == account_id))


def _require_positive(amount):
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValidationFailed("amount must be a positive integer", {"amount": "must be a positive integer"})


def _replay(db, business_key, fingerprint) -> Posting | None:
    row = db.execute(
        select(LedgerEntry.id, LedgerEntry.account_id, LedgerEntry.amount, LedgerEntry.balance_after,
               LedgerEntry.fingerprint).where(LedgerEntry.business_key == business_key)
    ).one_or_none()
    if row is None:
        return None
    replay_or_conflict(row.fingerprint, fingerprint, f"{business_key!r} was already posted with other content",
                       {"business_key": "already used with other content"})
    return Posting(row.id, row.account_id, row.amount, row.balance_after, replayed=True)


def _move_balance(db, account_id, delta) -> int:
    return db.scalar(MOVE_BALANCE, {"account_id": account_id, "delta": delta})


def _insert_entry(db, account_id, account_kind, kind, amount, balance_after, business_key, fingerprint, *,
                  occurred_at=None, outlet_id=None, bill_id=None, breakdown=None, note=None,
                  reverses_id=None) -> int:
    return db.scalar(INSERT_ENTRY, {
        "account_id": account_id, "account_kind": account_kind, "kind": kind, "amount": amount, "balance_after": balance_after,
        "business_key": business_key, "fingerprint": fingerprint, "reverses_id": reverses_id,
        "outlet_id": outlet_id, "bill_id": bill_id, "occurred_at": as_utc(occurred_at or utcnow()),
        "created_at": utcnow(), "breakdown": breakdown, "note": note,
    })


def _lots_for_debit(db, account_id, now: datetime):
    return db.execute(
        select(PointLot.id, PointLot.remaining)
        .where(PointLot.account_id == account_id, PointLot.remaining > 0, PointLot.expires_at > now)
        .order_by(PointLot.expires_at, PointLot.id).with_for_update()
    ).all()


def _lots_for_clawback(db, original):
    """The lot the original credit created comes first, then every other lot, oldest-expiring first."""
    lots = db.execute(
        select(PointLot.id, PointLot.remaining, PointLot.entry_id)
        .where(PointLot.account_id == original.account_id, PointLot.remaining > 0)
        .order_by(PointLot.expires_at, PointLot.id).with_for_update()
    ).all()
    return sorted(lots, key=lambda lot: lot.entry_id != original.id)


def _take_from_lots(db, entry_id, lots, amount):
    allocations = []
    for lot in lots:
        if amount == 0:
            break
        taken = min(lot.remaining, amount)
        amount -= taken
        allocations.append({"entry_id": entry_id, "lot_id": lot.id, "amount": taken})
        db.execute(update(LOTS).where(LOTS.c.id == lot.id).values(remaining=LOTS.c.remaining - taken))
    if amount:
        raise InsufficientBalance("the lots hold fewer points than the balance says", {"amount": "insufficient"})
    db.execute(insert(ALLOCATIONS), allocations)


def _give_back_to_lots(db, original_id, reversal_id, amount):
    """Return points to the lots a debit took them from, the most recently taken first."""
    reversal_ids = select(LedgerEntry.id).where(LedgerEntry.reverses_id == original_id)
    still_out = db.execute(
        select(LotAllocation.lot_id, func.sum(LotAllocation.amount).label("amount"),
               func.min(LotAllocation.id).label("first"))
        .where((LotAllocation.entry_id == original_id) | LotAllocation.entry_id.in_(reversal_ids))
        .group_by(LotAllocation.lot_id).order_by(func.min(LotAllocation.id).desc())
    ).all()
    allocations = []
    for lot in still_out:
        if amount == 0:
            break
        returned = min(int(lot.amount), amount)
        if returned <= 0:
            continue
        amount -= returned
        allocations.append({"entry_id": reversal_id, "lot_id": lot.lot_id, "amount": -returned})
        db.execute(update(LOTS).where(LOTS.c.id == lot.lot_id).values(remaining=LOTS.c.remaining + returned))
    if allocations:
        db.execute(insert(ALLOCATIONS), allocations)
