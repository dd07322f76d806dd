"""A table of work that `lps worker` delivers at least once: claim the due rows under a lease,
back off after a failed try, dead-letter, and refuse a result that comes too late.

Two tables are delivered this way: the outbox (lps_core.messages.worker) and the webhook deliveries
(lps_core.webhooks.delivery). What each sends and how it screens a row differs; the lifecycle below
is the same, so it is written once here. A queue table has the columns `status` ('queued',
'sending', 'dead', 'cancelled' and its own word for done), `tries`, `next_attempt_at`,
`claimed_by` and `last_error`; its options (lps.messages.*, lps.webhooks.*) name `batch_size`,
`lease_seconds`, `max_tries`, `backoff_seconds` and `backoff_max_seconds`.

1. **Claim** (one short transaction, `LeasedQueue.transaction` and `claim_due`): the rows queued or
   left `sending` past their lease, whose `next_attempt_at` is due, oldest first. On PostgreSQL
   they are locked with `FOR UPDATE SKIP LOCKED`, so workers running at once never take the same
   row and none waits for another. On SQLite every write transaction begins IMMEDIATE and holds the
   database's one write lock, so a claim is exclusive there too (a second worker only waits). A row
   left `sending` with every try used is dead: the worker stopped while sending it that many times.
   The caller screens the others (cancel, postpone) and leases the rest: `sending`, a try counted,
   the lease's end in `next_attempt_at`, the claim's name in `claimed_by`.
2. **Send**: the caller's, with no claim transaction open.
3. **Record** (`after_failure`, `record`): a failed try is queued again after an exponential
   back-off, or dead once its tries are used (or at once for a permanent failure). The update
   names the claim and `sending`, so a worker whose lease ran out (another has taken the row since)
   does not overwrite the newer claim's result.
"""
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

QUEUED, SENDING, DEAD, CANCELLED = "queued", "sending", "dead", "cancelled"
ERROR_LENGTH = 1000  # the last_error columns' length


def backoff_seconds(tries, options) -> int:
    """Seconds to wait after the `tries`-th failed try: the base, doubled each time, capped."""
    return min(options.backoff_seconds * 2 ** max(tries - 1, 0), options.backoff_max_seconds)


@dataclass
class Claim:
    """The rows one claim took: `rows` are the live ones for the caller to screen and lease;
    `selected` counts every due row it took, `dead` the abandoned ones it dead-lettered."""

    name: str
    lease_end: datetime
    rows: list
    selected: int
    dead: int

    def lease(self, row) -> None:
        """Send `row` under this claim: a try counted, held until the lease's end."""
        row.status, row.tries, row.next_attempt_at, row.claimed_by = SENDING, row.tries + 1, self.lease_end, self.name

    @staticmethod
    def cancel(row, why) -> None:
        """Never send `row` (its channel or endpoint is off, consent was withdrawn)."""
        row.status, row.last_error, row.claimed_by = CANCELLED, why, None

    @staticmethod
    def postpone(row, until) -> None:
        """Send `row` later, without using a try (quiet hours, a rate limit)."""
        row.status, row.next_attempt_at, row.claimed_by = QUEUED, until, None


class LeasedQueue:
    """The rows of `table` (a mapped class) delivered by the worker named `name`, in sessions of
    `session_factory` that the queue commits itself."""

    def __init__(self, table, session_factory, name):
        self.table = table
        self.session_factory = session_factory
        self.name = name
        self._claims = 0

    @contextmanager
    def transaction(self):
        """A session in one transaction, committed on leaving (rolled back on an error)."""
        db = self.session_factory()
        try:
            with db.begin():
                yield db
        finally:
            db.close()

    def claim_due(self, db, now, options) -> Claim:
        """Take the rows due at `now` (step 1); the caller leases, cancels or postpones `rows`
        in the same transaction."""
        table = self.table
        due = (select(table).where(table.status.in_((QUEUED, SENDING)), table.next_attempt_at <= now)
               .order_by(table.next_attempt_at, table.id).limit(options.batch_size))
        if db.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        rows = db.scalars(due).all()
        # A name per claim, so a late result of this claim cannot pass for a newer one's.
        self._claims += 1
        claim = Claim(f"{self.name}:{self._claims}"[:100], now + timedelta(seconds=options.lease_seconds), [],
                      len(rows), 0)
        for row in rows:
            if row.status == SENDING and row.tries >= options.max_tries:
                row.status, row.claimed_by = DEAD, None
                row.last_error = (f"the worker stopped while sending it, {row.tries} times: "
                                  f"{row.last_error or 'no answer recorded'}")[:ERROR_LENGTH]
                claim.dead += 1
            else:
                claim.rows.append(row)
        return claim

    @staticmethod
    def after_failure(tries, why, options, now, *, retry=True) -> dict:
        """The values that record a failed `tries`-th try: queued again after its back-off, or
        dead (a permanent failure, `retry` false, at once; a temporary one once tries are used)."""
        if retry and tries < options.max_tries:
            return {"status": QUEUED, "last_error": why[:ERROR_LENGTH],
                    "next_attempt_at": now + timedelta(seconds=backoff_seconds(tries, options))}
        if retry:
            why = f"{why} (gave up after {tries} tries)"
        return {"status": DEAD, "last_error": why[:ERROR_LENGTH]}

    def record(self, row_id, claim_name, values) -> bool:
        """Write a try's result (step 3) in its own transaction, only while the row is still
        `sending` under `claim_name`; False when the lease ran out and another claim took it."""
        table = self.table
        with self.transaction() as db:
            return bool(db.execute(update(table).where(table.id == row_id, table.status == SENDING,
                                                       table.claimed_by == claim_name)
                                   .values(claimed_by=None, **values)).rowcount)
