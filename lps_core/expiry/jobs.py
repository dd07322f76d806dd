"""`lps jobs expire`: expire points by the programme's policy and warn members before theirs expire.

The job walks the accounts in id order, `--batch-size` at a time; each batch is one committed
transaction that expires the batch's due lots (lps_core.expiry.services), writes its warnings, calls
`lps_on_points_expiring` for each new warning and records its progress in the run's expiry_runs row.

- The run is named by its evaluation date (run_key, UTC). A finished run is not repeated, so a
  second run the same day changes nothing; the next day's run finds no lot left to expire twice,
  because an expired lot has nothing remaining.
- An interrupted run resumes after the run's `last_account_id`, at the run's own evaluation moment,
  which the run row keeps in `started_at`.
- `--dry-run` counts what would happen, batch by batch, and writes nothing, not even the run row.
"""
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from lps_core.batch_jobs import in_order, job_workers, move_position
from lps_core.db import tune_for_aggregates
from lps_core.errors import ConfigurationError, Conflict
from lps_core.expiry import services
from lps_core.expiry.models import ExpiryRun
from lps_core.expiry.policy import ExpiryPolicy
from lps_core.expiry.services import Evaluation, Totals
from lps_core.timeutil import as_utc, isoformat, utcnow

RUNS = ExpiryRun.__table__


@dataclass
class ExpiryReport:
    run_key: str
    now: datetime
    dry_run: bool
    totals: Totals
    resumed_after: int = 0
    already_finished: bool = False


def parse_moment(value) -> datetime:
    if value is None:
        return utcnow()
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigurationError(f"--now must be an ISO 8601 moment, for example 2026-06-01T00:00:00+00:00, not {value!r}")
    if moment.tzinfo is None:
        raise ConfigurationError(f"--now needs a UTC offset, for example {value}+00:00")
    return as_utc(moment)


def run_expiry_job(env, args) -> int:
    """The `lps jobs expire` command: run (or resume) today's expiry and print a summary."""
    progress = Progress(sys.stderr, enabled=not args.no_progress and sys.stderr.isatty())
    report = expire_points(env, now=parse_moment(args.now), dry_run=args.dry_run,
                           batch_size=args.batch_size, workers=args.workers, progress=progress)
    for line in summary_lines(report):
        print(line)
    return 0


# Accounts per batch: at 1M members 50k took 67.5 s for a catch-up run, 200k 83 s (bench/README.md).
DEFAULT_BATCH_SIZE = 50_000


def expire_points(env, *, now=None, dry_run=False, batch_size=None, workers=None, progress=None) -> ExpiryReport:
    """Run the expiry for the moment `now` (default: now), batch by batch, `workers` batches at once
    (lps_core.batch_jobs.in_order); see the module docstring."""
    batch_size = DEFAULT_BATCH_SIZE if batch_size is None else batch_size
    if batch_size < 1:
        raise ConfigurationError("--batch-size must be at least 1")
    workers = job_workers(env, workers)
    policy = ExpiryPolicy.from_settings(env.settings)
    warning_days = policy.warning_days
    ev = Evaluation.at(now or utcnow(), policy, warning_days)
    run = env.transaction(lambda db: db.execute(select(RUNS).where(RUNS.c.run_key == ev.run_key)).one_or_none())
    report = ExpiryReport(ev.run_key, ev.now, dry_run, Totals())
    if run is not None and run.finished_at is not None:
        report.already_finished = True
        return report
    if run is not None:
        ev = Evaluation.at(run.started_at, policy, warning_days)  # a resumed run keeps its moment
        report.now, report.resumed_after = ev.now, run.last_account_id
    elif not dry_run:
        try:
            run = env.transaction(lambda db: db.execute(
                insert(RUNS).values(run_key=ev.run_key, started_at=ev.now, last_account_id=0, accounts=0, points=0)
                .returning(RUNS)).one())
        except IntegrityError:
            raise Conflict(f"expiry run {ev.run_key} was started by another process just now") from None
    after_id = run.last_account_id if run is not None else 0
    progress = progress or Progress(None, enabled=False)
    progress.start(env.transaction(lambda db: services.count_accounts_after(db, after_id)))
    if dry_run:
        step, finish = partial(_measure_batch, ev=ev), None
    else:
        step = partial(_expire_batch, env=env, ev=ev, run_id=run.id)
        finish = partial(_move_position, ev=ev, run_id=run.id)
    batches = _batches(env, after_id, batch_size)
    for batch, totals in in_order(env, batches, step, finish=finish, workers=workers):
        report.totals.add(totals)
        progress.advance(totals.accounts, batch)
    if not dry_run:
        env.transaction(lambda db: db.execute(update(RUNS).where(RUNS.c.id == run.id).values(finished_at=utcnow())))
    progress.finish()
    return report


def _batches(env, after_id, batch_size):
    """The run's batches, as id ranges, each read when the one before it has been handed out."""
    while (batch := env.transaction(lambda db: services.batch_after(db, after_id, batch_size))) is not None:
        yield batch
        after_id = batch.last_id


def _measure_batch(db, batch, *, ev):
    tune_for_aggregates(db)
    batch = services.with_inactive_ids(db, ev, batch)
    totals = services.measure_expiry(db, ev, batch)
    totals.warnings = services.count_new_warnings(db, ev, batch)
    return totals


def _expire_batch(db, batch, *, env, ev, run_id):
    """One batch's work: expire, warn, notify. A position past the batch's start means another process
    runs this run key; one before it is the batch before this one, still running (in_order)."""
    position = db.scalar(select(RUNS.c.last_account_id).where(RUNS.c.id == run_id))
    if position > batch.after_id:
        raise _taken(ev, position, batch)
    tune_for_aggregates(db)
    batch = services.with_inactive_ids(db, ev, batch)
    totals = services.expire_batch(db, ev, batch)
    hook = env.plugins.hook.lps_on_points_expiring
    if not hook.get_hookimpls():  # nobody listens: the warnings wait, unnotified, for a later listener
        totals.warnings = services.write_warnings(db, ev, batch)
    else:
        warnings = services.write_warnings(db, ev, batch, notified_at=utcnow())
        for warning in warnings:
            hook(dbsession=db, member_id=warning.member_id, account_id=warning.account_id,
                 points=warning.points, expires_on=warning.expires_on)
        totals.warnings = len(warnings)
    return totals


def _move_position(db, batch, totals, *, ev, run_id):
    """The batch's finish (in_order): the run's position moves on from where the batch starts, or
    another process has moved it, and the batch rolls back."""
    if not move_position(db, RUNS, run_id, "last_account_id", batch.after_id, batch.last_id,
                         accounts=RUNS.c.accounts + totals.accounts, points=RUNS.c.points + totals.points):
        position = db.scalar(select(RUNS.c.last_account_id).where(RUNS.c.id == run_id))
        raise _taken(ev, position, batch)


def _taken(ev, position, batch):
    return Conflict(f"expiry run {ev.run_key} is being run by another process (it is at account {position}, "
                    f"this one at {batch.after_id})")


def summary_lines(report: ExpiryReport) -> list[str]:
    head = f"expiry run {report.run_key} at {isoformat(report.now)}"
    if report.already_finished:
        return [f"{head}: already finished; nothing to do"]
    if report.resumed_after:
        head += f", resumed after account {report.resumed_after}"
    t = report.totals
    if report.dry_run:
        return [f"{head} (dry run: nothing changed)",
                f"would expire {t.points:,} points in {t.lots:,} lots of {t.accounts:,} accounts; "
                f"would write {t.warnings:,} warnings"]
    return [head, f"accounts: {t.accounts:,}  lots: {t.lots:,}  points expired: {t.points:,}  "
                  f"warnings written: {t.warnings:,}"]


class Progress:
    """A plain progress bar on a terminal: accounts done of the total, rate and elapsed time."""

    WIDTH = 30

    def __init__(self, stream, enabled):
        self.stream, self.enabled = stream, enabled
        self.total = self.done = self.expired = 0
        self.started = time.monotonic()

    def start(self, total):
        self.total, self.started = total, time.monotonic()
        self._draw()

    def advance(self, expired_accounts, batch):
        self.expired += expired_accounts
        self.done = min(self.total, self.done + batch.size)
        self._draw()

    def finish(self):
        if self.enabled:
            self.done = self.total
            self._draw()
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self):
        if not self.enabled:
            return
        share = self.done / self.total if self.total else 1.0
        filled = int(share * self.WIDTH)
        elapsed = time.monotonic() - self.started
        self.stream.write(f"\rexpire [{'#' * filled}{'.' * (self.WIDTH - filled)}] {share:4.0%} "
                          f"{self.done:,}/{self.total:,} accounts, {self.expired:,} expired, {elapsed:.0f}s")
        self.stream.flush()
