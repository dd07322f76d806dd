"""lps_core.batch_jobs, the shape of `lps jobs birthdays` and `lps jobs memberships`: committed
batches in id order, a progress bar that counts them, a run stopped midway that leaves whole batches
done, and the command's options checked before anything runs. And in_order, with which `lps jobs
tiers` and `lps jobs expire` run two batches at once on PostgreSQL: what is committed is always the
first batches, never a gap."""
import io
import threading
from argparse import Namespace
from datetime import datetime, timezone

import pytest
from sqlalchemy import select, update

from lps_core.batch_jobs import BatchedRun, in_order, job_workers, run_job_command
from lps_core.db import get_session_factory, run_in_transaction
from lps_core.errors import ValidationFailed
from lps_core.messages.models import OutboxMessage
from lps_core.timeutil import utcnow


class Environment:
    """What a job gets from the CLI (lps_core.cli.Environment), on the test database."""

    def __init__(self, engine):
        self.engine = engine
        self.session_factory = get_session_factory(engine)

    def transaction(self, work):
        return run_in_transaction(self.session_factory, work)


def queued_messages(db, count) -> list[int]:
    rows = [OutboxMessage(event="tier_changed", channel="email", language="en", recipient=f"guest{n}@example.test",
                          subject="Hello", body="Hi", next_attempt_at=utcnow()) for n in range(count)]
    db.add_all(rows)
    db.commit()
    return [row.id for row in rows]


def cancel_batch(size, fail_after=None):
    """A batch that cancels the next `size` queued messages: (last id, cancelled, ids), or None.
    With `fail_after`, it raises once a message with a greater id would be done."""
    def run(db, after_id):
        ids = db.scalars(select(OutboxMessage.id).where(OutboxMessage.status == "queued", OutboxMessage.id > after_id)
                         .order_by(OutboxMessage.id).limit(size)).all()
        if not ids:
            return None
        db.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(status="cancelled"))
        if fail_after is not None and ids[-1] > fail_after:
            raise RuntimeError("stopped midway")
        return ids[-1], len(ids), ids
    return run


def statuses(db) -> list[str]:
    db.commit()  # a new snapshot: see what the batches committed
    return db.scalars(select(OutboxMessage.status).order_by(OutboxMessage.id)).all()


def test_batches_walk_in_id_order_commit_each_and_move_the_bar(db, engine):
    ids = queued_messages(db, 5)
    stream = io.StringIO()
    with BatchedRun(Environment(engine), 5, progress=True, unit="messages", stream=stream) as run:
        done = list(run.batches(cancel_batch(2)))
    assert done == [(2, ids[:2]), (2, ids[2:4]), (1, ids[4:])]
    assert run.done == 5 and statuses(db) == ["cancelled"] * 5
    shown = stream.getvalue()
    assert "2/5 messages" in shown and "4/5 messages" in shown and "5/5 messages" in shown and "100.0%" in shown
    assert shown.endswith("\n")  # the bar's line is ended when the run is


def test_a_run_stopped_midway_leaves_whole_batches_done_and_the_next_does_the_rest(db, engine):
    ids = queued_messages(db, 5)
    stream = io.StringIO()
    with pytest.raises(RuntimeError, match="stopped midway"):
        with BatchedRun(Environment(engine), 5, progress=True, stream=stream) as run:
            list(run.batches(cancel_batch(2, fail_after=ids[1])))
    assert statuses(db) == ["cancelled"] * 2 + ["queued"] * 3  # the failed batch rolled back, the first stayed
    assert stream.getvalue().endswith("\n")
    with BatchedRun(Environment(engine), 3, progress=False) as run:
        assert [count for count, _ in run.batches(cancel_batch(2))] == [2, 1]
    assert statuses(db) == ["cancelled"] * 5


def test_a_dry_run_shows_the_count_done_and_no_bar_without_a_terminal(engine):
    stream = io.StringIO()
    with BatchedRun(Environment(engine), 1234, progress=True, stream=stream) as run:
        run.counted()
    assert "1,234 members" in stream.getvalue() and "100.0%" in stream.getvalue()
    quiet = io.StringIO()
    with BatchedRun(Environment(engine), 1234, progress=False, stream=quiet) as run:
        run.counted()
    assert quiet.getvalue() == ""


class Report:
    def __init__(self, **given):
        self.given = given

    def summary(self):
        return f"ran at {self.given['now'].isoformat()}, dry run {self.given['dry_run']}"


def arguments(**values):
    return Namespace(**{"now": None, "dry_run": False, "batch_size": None, "no_progress": False, **values})


def test_the_command_checks_its_options_then_runs_the_job_and_prints_its_summary(capsys):
    calls = []

    def job(env, **options):
        calls.append(options)
        return Report(**options)

    with pytest.raises(ValidationFailed, match="--batch-size") as refused:
        run_job_command(None, arguments(batch_size=0), job)
    assert refused.value.fields == {"batch_size": "must be at least 1"}
    with pytest.raises(ValidationFailed, match="--now"):
        run_job_command(None, arguments(now="2026-06-01T09:00:00"), job)  # no offset
    assert calls == []

    assert run_job_command(None, arguments(now="2026-06-01T09:00:00+08:00", dry_run=True, batch_size=10,
                                           no_progress=True), job) == 0
    assert calls == [{"now": datetime(2026, 6, 1, 1, 0, tzinfo=timezone.utc), "dry_run": True, "batch_size": 10,
                      "progress": False}]
    assert capsys.readouterr().out == "ran at 2026-06-01T01:00:00+00:00, dry run True\n"


def cancel_one(ids, *, wait_for=None, fail=None):
    """A batch (an index into `ids`) that cancels its message; batch `wait_for[0]` waits, before its
    work, until batch `wait_for[1]` has done its own; batch `fail` raises after its work."""
    started = {n: threading.Event() for n in range(len(ids))}

    def run(db, n):
        if wait_for and n == wait_for[0]:
            assert started[wait_for[1]].wait(10)
        db.execute(update(OutboxMessage).where(OutboxMessage.id == ids[n]).values(status="cancelled"))
        started[n].set()
        if n == fail:
            raise RuntimeError(f"batch {n} failed")
        return n
    return run


def test_batches_run_two_at_once_and_each_finishes_once_the_one_before_committed(db, engine):
    ids = queued_messages(db, 4)
    env = Environment(engine)
    workers = job_workers(env)  # 2 on PostgreSQL; SQLite takes one writer at a time
    assert workers == (2 if engine.dialect.name == "postgresql" else 1)
    seen_at_finish = {}

    def finish(db, n, _):  # a new statement: it sees what other transactions have committed
        seen_at_finish[n] = db.scalars(select(OutboxMessage.status).order_by(OutboxMessage.id)).all()

    # On PostgreSQL batch 0 waits until batch 1 has done its work: batch 1 ends first, yet finishes
    # and commits only after batch 0.
    wait_for = (0, 1) if workers == 2 else None
    done = list(in_order(env, range(4), cancel_one(ids, wait_for=wait_for), finish=finish, workers=workers))

    assert done == [(0, 0), (1, 1), (2, 2), (3, 3)]
    for n in range(4):  # at its finish, a batch sees those before it committed, and its own work
        assert seen_at_finish[n][:n + 1] == ["cancelled"] * (n + 1)
    assert statuses(db) == ["cancelled"] * 4


def test_a_failed_batch_rolls_back_the_batches_after_it_and_raises_its_error(db, engine):
    ids = queued_messages(db, 5)
    env = Environment(engine)
    workers = job_workers(env)
    # On PostgreSQL batch 2 has done its work by the time batch 1 fails: it is rolled back all the same.
    run = cancel_one(ids, wait_for=(1, 2) if workers == 2 else None, fail=1)
    yielded = []
    with pytest.raises(RuntimeError, match="batch 1 failed"):
        for batch, _ in in_order(env, range(5), run, workers=workers):
            yielded.append(batch)
    assert yielded == [0]
    assert statuses(db) == ["cancelled"] + ["queued"] * 4  # the first batch only: no gap


def test_the_workers_option_is_checked():
    class AnyDatabase(Environment):
        def __init__(self):
            pass

    for workers in (0, 9, -1):
        with pytest.raises(ValidationFailed, match="workers"):
            job_workers(AnyDatabase(), workers)


def test_batches_that_wait_on_each_other_fail_instead_of_hanging(db, engine):
    """A later batch holds a row the batch before it needs, while it waits for that batch to commit:
    the lock wait ends in an error, both roll back, and the run stops instead of hanging."""
    env = Environment(engine)
    if job_workers(env) == 1:
        pytest.skip("SQLite runs one batch at a time")
    from sqlalchemy.exc import OperationalError

    ids = queued_messages(db, 2)
    second_has_it = threading.Event()

    def run(db, n):
        if n == 0:
            assert second_has_it.wait(10)
        db.execute(update(OutboxMessage).where(OutboxMessage.id == ids[0]).values(status="cancelled"))
        if n == 1:
            second_has_it.set()
        return n

    with pytest.raises(OperationalError, match="lock timeout"):
        list(in_order(env, range(2), run, workers=2, lock_timeout_ms=300))
    assert statuses(db) == ["queued", "queued"]
