"""The shape of a batched `lps jobs ...` run, written once: the command-line options (`--now`,
`--dry-run`, `--batch-size`, `--no-progress`), a count of what is due, the progress bar on a
terminal, and the walk through the due rows in id order, one committed transaction per batch.

A job that takes this shape (lps_core.birthdays.jobs, lps_core.cards.membership_jobs) writes only
what is its own: what is due, what one batch does, and its report. Because every batch commits
on its own and the next one starts after the last id done, an interrupted run leaves whole
batches done, and the next run, which finds only what is still due, does the rest."""
import sys
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import partial

from sqlalchemy import text, update

from lps_core.errors import ValidationFailed
from lps_core.timeutil import as_utc, utcnow


def run_job_command(env, args, job) -> int:
    """A job's `lps jobs ...` command: checks `--batch-size`, reads `--now`, shows progress only
    when stderr is a terminal (and not `--no-progress`), runs `job` and prints its report's summary."""
    if args.batch_size is not None and args.batch_size < 1:
        raise ValidationFailed("--batch-size must be at least 1", {"batch_size": "must be at least 1"})
    report = job(env, now=parse_now(args.now), dry_run=args.dry_run, batch_size=args.batch_size,
                 progress=not args.no_progress and sys.stderr.isatty())
    print(report.summary())
    return 0


class BatchedRun:
    """One run over `total` due rows of a job, counted in `unit`s (members, say), with its
    progress bar; use it in a `with` block, which ends the bar's line."""

    def __init__(self, env, total, *, progress, unit="members", stream=None):
        self.env = env
        self.total = total
        self.unit = unit
        self.done = 0
        self.bar = ProgressBar(total, progress, stream)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.bar.close()

    def counted(self) -> None:
        """A dry run: the count is the whole answer, and the bar shows it done."""
        self.bar.update(self.total, f"{self.total:,} {self.unit}")

    def batches(self, run_batch):
        """Run `run_batch(db, after_id)` in one committed transaction after another, each after
        the last id the one before did, until it returns None (nothing is left). It returns
        `(last id, units done, *other counts)`; this yields `(units done, *other counts)` of each
        batch and moves the bar on."""
        after_id = 0
        while True:
            done = self.env.transaction(lambda db: run_batch(db, after_id))
            if done is None:
                return
            after_id, units, *counts = done
            self.done += units
            self.bar.update(self.done, f"{self.done:,}/{self.total:,} {self.unit}")
            yield (units, *counts)


# Batches in flight at once on PostgreSQL: a batch's statements are each one backend's work, which
# PostgreSQL does not spread over cores when it writes, so a second batch uses the second core
# (bench/README.md, the jobs). SQLite takes one writer at a time.
DEFAULT_WORKERS = 2
MAX_WORKERS = 8


def job_workers(env, workers=None) -> int:
    """How many batches of a job run at once: `workers` (default DEFAULT_WORKERS), 1 on SQLite."""
    workers = DEFAULT_WORKERS if workers is None else workers
    if not 1 <= workers <= MAX_WORKERS:
        raise ValidationFailed(f"--workers must be from 1 to {MAX_WORKERS}", {"workers": f"from 1 to {MAX_WORKERS}"})
    with env.session_factory() as db:
        dialect = db.get_bind().dialect.name
    return workers if dialect == "postgresql" else 1


class Abandoned(Exception):
    """A batch rolled back, its work undone, because a batch before it failed."""


# With batches at once, a later batch waits for the one before it to commit while it holds its own
# locks. Should the one before need one of them (a listener that updates a row every batch shares),
# the two would wait for each other where PostgreSQL cannot see it: the lock wait ends in an error
# instead, the batches roll back, and the run can be resumed, with --workers 1.
LOCK_TIMEOUT_MS = 60_000


def in_order(env, batches, run_batch, *, finish=None, workers=1, lock_timeout_ms=LOCK_TIMEOUT_MS):
    """Run `run_batch(db, batch)` for each of `batches` (read lazily), each in its own transaction,
    then `finish(db, batch, what it returned)` in the same transaction, and yield `(batch, what it
    returned)` in the batches' order.

    With `workers` > 1 that many batches run at once, each on its own thread and connection. A
    batch calls `finish` and commits only once the batch before it has committed, so `finish` is
    where a job moves its position (the last id done) on from where the batch starts, and what is
    committed is always the first batches, never a gap: an interrupted run resumes where its
    committed batches end. When a batch fails, the batches after it roll back (Abandoned) and its
    error is raised. The batches must change disjoint rows, as ranges of ids do; a lock one waits for
    longer than `lock_timeout_ms` fails its batch (see LOCK_TIMEOUT_MS)."""
    if workers <= 1:
        for batch in batches:
            yield batch, env.transaction(lambda db: _run(db, run_batch, finish, batch, None))
        return
    running = deque()
    previous = None
    with ThreadPoolExecutor(workers, thread_name_prefix="lps-batch") as pool:
        for batch in batches:
            if len(running) == workers:
                done, future = running.popleft()
                yield done, future.result()
            previous = pool.submit(env.transaction, partial(_run, run_batch=run_batch, finish=finish, batch=batch,
                                                            before=previous, lock_timeout_ms=lock_timeout_ms))
            running.append((batch, previous))
        while running:
            done, future = running.popleft()
            yield done, future.result()


def _run(db, run_batch, finish, batch, before, lock_timeout_ms=None):
    """One batch's work; then, once the batch `before` has committed, its finish."""
    if lock_timeout_ms:  # batches at once run on PostgreSQL only (job_workers)
        db.execute(text(f"SET LOCAL lock_timeout = {int(lock_timeout_ms)}"))
    result = run_batch(db, batch)
    if before is not None and before.exception() is not None:  # waits for it to end
        raise Abandoned(f"rolled back: an earlier batch failed ({before.exception()!r})")
    if finish is not None:
        finish(db, batch, result)
    return result


def move_position(db, table, row_id, column, after, upto, **values) -> bool:
    """A run's finish for in_order: set the run row's position `column` to `upto`, with `values`, only
    if it is still `after`, where the batch started; False when another process moved it."""
    moved = db.execute(update(table).where(table.c.id == row_id, table.c[column] == after)
                       .values({column: upto, **values})).rowcount
    return moved == 1


def parse_now(value) -> datetime:
    if not value:
        return utcnow()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ValidationFailed(f"--now must be ISO 8601 with an offset, e.g. 2025-01-01T00:00:00+08:00, not {value!r}",
                               {"now": "must be ISO 8601 with an offset"})
    return as_utc(moment)


class ProgressBar:
    """A one-line progress bar on stderr, only when stderr is a terminal."""

    def __init__(self, total, enabled, stream=None, width=30):
        self.stream = stream or sys.stderr
        self.total = max(total, 1)
        self.enabled = enabled
        self.width = width
        self.started = time.monotonic()

    def update(self, done, note=""):
        if not self.enabled:
            return
        fraction = min(1.0, done / self.total)
        filled = int(self.width * fraction)
        elapsed = time.monotonic() - self.started
        self.stream.write(f"\r[{'#' * filled}{'.' * (self.width - filled)}] {fraction:6.1%} {elapsed:6.1f} s {note}")
        self.stream.flush()

    def close(self):
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
