"""Points expiry: lots past their date and inactive members' points expire through the ledger, once;
members are warned once before; the job is resumable, has a dry run and keeps the ledger in balance."""
import threading
from datetime import date, datetime, timedelta, timezone

import pluggy
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from lps_core.db import get_session_factory, run_in_transaction
from lps_core.errors import Conflict, NotFound, ValidationFailed
from lps_core.expiry import services
from lps_core.expiry.jobs import expire_points
from lps_core.expiry.models import ExpiryRun, ExpiryWarning
from lps_core.expiry.policy import ExpiryPolicy
from lps_core.ledger import services as ledger
from lps_core.ledger.check import find_drift
from lps_core.ledger.models import Account, LedgerEntry, LotAllocation, PointLot
from lps_core.members.models import Member
from lps_core.plugins import load_plugins
from lps_core.timeutil import as_utc
from lps_core.testing import run_lps, write_ini

NOW = datetime(2026, 6, 1, 3, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)


class JobEnvironment:
    """What `lps jobs expire` gets from the CLI, on the test database."""

    def __init__(self, engine, plugins, **settings):
        self.settings = {f"lps.points.{key}": str(value) for key, value in settings.items()}
        self.engine = engine
        self.session_factory = get_session_factory(engine)
        self.plugins = plugins

    def transaction(self, work):
        return run_in_transaction(self.session_factory, work)


@pytest.fixture
def job(engine, plugins, db):
    def run(now=NOW, plugins_=plugins, **options):
        settings = options.pop("settings", {})
        db.commit()  # on SQLite the test's session would hold the write lock the job needs
        report = expire_points(JobEnvironment(engine, plugins_, **settings), now=now, **options)
        db.commit()
        return report

    return run


@pytest.fixture
def account(seed):
    return seed.points_account(seed.member_card())


def earn(db, account, points, key, *, earned=NOW - 300 * DAY, expires):
    posting = ledger.credit(db, account, points, kind=ledger.EARN, business_key=key, fingerprint=key,
                            occurred_at=earned, expires_at=expires)
    db.commit()
    return posting.entry_id


def spend(db, account, points, key, at):
    posting = ledger.debit(db, account, points, business_key=key, fingerprint=key, occurred_at=at, now=at)
    db.commit()
    return posting


def lot_of(db, entry_id):
    return db.scalar(select(PointLot.remaining).where(PointLot.entry_id == entry_id))


def expiry_entries(db):
    return db.execute(select(LedgerEntry).where(LedgerEntry.kind == "expiry").order_by(LedgerEntry.account_id)).scalars().all()


def snapshot(db):
    """Everything the job may change, in a comparable form."""
    state = {
        "balances": db.execute(select(Account.id, Account.balance).order_by(Account.id)).all(),
        "entries": db.execute(select(LedgerEntry.account_id, LedgerEntry.kind, LedgerEntry.amount,
                                     LedgerEntry.balance_after, LedgerEntry.business_key, LedgerEntry.occurred_at)
                              .order_by(LedgerEntry.business_key)).all(),
        "lots": db.execute(select(PointLot.id, PointLot.remaining).order_by(PointLot.id)).all(),
        "allocations": db.execute(select(LedgerEntry.business_key, LotAllocation.lot_id, LotAllocation.amount)
                                  .join(LedgerEntry, LedgerEntry.id == LotAllocation.entry_id)
                                  .order_by(LedgerEntry.business_key, LotAllocation.lot_id)).all(),
        "warnings": db.execute(select(ExpiryWarning.account_id, ExpiryWarning.expires_on, ExpiryWarning.points)
                               .order_by(ExpiryWarning.account_id, ExpiryWarning.expires_on)).all(),
    }
    db.commit()
    return state


def test_expired_lots_expire_and_a_partly_spent_lot_only_its_remainder(db, account, job):
    old = earn(db, account, 100, "e1", earned=NOW - 400 * DAY, expires=NOW - DAY)
    young = earn(db, account, 50, "e2", expires=NOW + 200 * DAY)
    spend(db, account, 30, "d1", at=NOW - 10 * DAY)  # oldest-expiring first: 30 of the old lot's 100

    report = job()

    assert (report.totals.accounts, report.totals.lots, report.totals.points) == (1, 1, 70)
    (entry,) = expiry_entries(db)
    assert (entry.amount, entry.balance_after, entry.account_kind) == (-70, 50, "points")  # as reports select it
    assert entry.business_key == f"expiry:{account}:2026-06-01"
    assert as_utc(entry.occurred_at) == NOW
    assert (lot_of(db, old), lot_of(db, young)) == (0, 50)
    assert ledger.balance_of(db, account) == 50
    # the lot empties whole, so the entry needs no allocation to say what it took
    assert db.scalar(select(func.count()).select_from(LotAllocation).where(LotAllocation.entry_id == entry.id)) == 0
    assert find_drift(db) == []


def test_a_debit_after_the_expiry_date_skips_the_expired_lot_which_the_job_then_expires(db, account, job):
    expired = earn(db, account, 100, "e1", expires=NOW - DAY)
    live = earn(db, account, 50, "e2", expires=NOW + 100 * DAY)
    spend(db, account, 40, "d1", at=NOW)
    assert (lot_of(db, expired), lot_of(db, live)) == (100, 10)

    job()

    assert (lot_of(db, expired), lot_of(db, live)) == (0, 10)
    assert ledger.balance_of(db, account) == 10
    assert [e.amount for e in expiry_entries(db)] == [-100]
    with pytest.raises(Exception):
        spend(db, account, 11, "d2", at=NOW)
    db.rollback()
    assert find_drift(db) == []


def test_a_second_run_changes_nothing(db, seed, job):
    for n in range(3):
        account = seed.points_account(seed.member_card(f"M{n}"))
        earn(db, account, 10 + n, f"e{n}", expires=NOW - DAY)
        earn(db, account, 5, f"f{n}", expires=NOW + 10 * DAY)
    first = job()
    after_first = snapshot(db)

    again = job()
    next_day = job(now=NOW + DAY)

    assert (first.totals.accounts, first.totals.points, first.totals.warnings) == (3, 33, 3)
    assert again.already_finished
    assert next_day.totals == services.Totals()
    assert snapshot(db) == after_first
    assert find_drift(db) == []


def test_dry_run_reports_the_numbers_and_changes_nothing(db, seed, job):
    for n in range(2):
        account = seed.points_account(seed.member_card(f"M{n}"))
        earn(db, account, 100, f"a{n}", expires=NOW - DAY)
        earn(db, account, 20, f"b{n}", expires=NOW)  # at the evaluation moment: expires too
        earn(db, account, 7, f"c{n}", expires=NOW + 5 * DAY)
    before = snapshot(db)

    report = job(dry_run=True, batch_size=1)

    assert (report.totals.accounts, report.totals.lots, report.totals.points, report.totals.warnings) == (2, 4, 240, 2)
    assert snapshot(db) == before
    assert db.scalar(select(ExpiryRun.id)) is None
    assert job().totals == report.totals


def test_inactive_members_lose_all_their_points(db, seed, job):
    idle, active, never = (seed.points_account(seed.member_card(name)) for name in ("idle", "active", "never"))
    for n, account in enumerate((idle, active, never)):
        earn(db, account, 40, f"x{n}", expires=NOW + 300 * DAY)
        earn(db, account, 60, f"y{n}", expires=NOW + 600 * DAY)
    member = {a: db.scalar(select(Account.member_id).where(Account.id == a)) for a in (idle, active, never)}
    db.execute(update(Member).where(Member.id == member[idle]).values(last_activity_at=NOW - 400 * DAY))
    db.execute(update(Member).where(Member.id == member[active]).values(last_activity_at=NOW - 30 * DAY))
    db.execute(update(Member).where(Member.id == member[never]).values(last_activity_at=None,
                                                                       approved_at=NOW - 800 * DAY))
    db.commit()

    off = job(dry_run=True)
    report = job(settings={"inactivity_months": 12})

    assert off.totals.points == 0
    assert (report.totals.accounts, report.totals.lots, report.totals.points) == (2, 4, 200)
    balances = dict(db.execute(select(Account.id, Account.balance)).all())
    assert (balances[idle], balances[active], balances[never]) == (0, 100, 0)
    assert find_drift(db) == []


def test_end_of_year_policy_expires_lots_on_new_year(db, account, job):
    policy = ExpiryPolicy.from_settings({"lps.points.expiry_policy": "end_of_year", "lps.points.expiry_years": "1"})
    early = datetime(2024, 5, 1, tzinfo=timezone.utc)
    late = datetime(2025, 3, 1, tzinfo=timezone.utc)
    old = earn(db, account, 30, "e2024", earned=early, expires=policy.lot_expires_at(early))
    new = earn(db, account, 12, "e2025", earned=late, expires=policy.lot_expires_at(late))
    new_year = datetime(2026, 1, 1, tzinfo=timezone.utc)

    eve = job(now=new_year - timedelta(minutes=1), settings={"expiry_policy": "end_of_year", "expiry_warning_days": 0})
    day = job(now=new_year, settings={"expiry_policy": "end_of_year", "expiry_warning_days": 0})

    assert eve.totals.points == 0
    assert day.totals.points == 30
    assert (lot_of(db, old), lot_of(db, new)) == (0, 12)
    assert find_drift(db) == []


class Listener:
    def __init__(self):
        self.calls = []

    @pluggy.HookimplMarker("lps")
    def lps_on_points_expiring(self, dbsession, member_id, account_id, points, expires_on):
        assert dbsession is not None
        self.calls.append((member_id, account_id, points, expires_on))


def test_warnings_are_written_once_and_listeners_told(db, account, job):
    registry = load_plugins({})
    listener = Listener()
    registry.pm.register(listener, name="listener")
    soon = datetime(2026, 6, 11, 12, 0, tzinfo=timezone.utc)
    earn(db, account, 10, "a", expires=soon)
    earn(db, account, 15, "b", expires=soon + timedelta(hours=6))  # the same day: one warning
    earn(db, account, 20, "c", expires=NOW + 20 * DAY)
    earn(db, account, 99, "d", expires=NOW + 40 * DAY)  # beyond the 30 days
    member_id = db.scalar(select(Account.member_id).where(Account.id == account))

    first = job(plugins_=registry)
    second = job(now=NOW + DAY, plugins_=registry)

    assert (first.totals.warnings, second.totals.warnings) == (2, 0)
    assert sorted(listener.calls, key=lambda call: call[3]) == [(member_id, account, 25, date(2026, 6, 11)),
                                      (member_id, account, 20, date(2026, 6, 21))]
    rows = db.execute(select(ExpiryWarning.points, ExpiryWarning.notified_at).order_by(ExpiryWarning.expires_on)).all()
    assert [r.points for r in rows] == [25, 20] and all(r.notified_at is not None for r in rows)
    assert job(now=NOW + 2 * DAY, settings={"expiry_warning_days": 45}).totals.warnings == 1


def test_warnings_without_a_listener_stay_unnotified(db, account, job):
    earn(db, account, 10, "a", expires=NOW + 3 * DAY)
    without_listeners = load_plugins({"lps.plugins.disabled": "posting_log lps_messages"})

    assert job(plugins_=without_listeners).totals.warnings == 1
    assert db.scalar(select(ExpiryWarning.notified_at)) is None


def test_an_interrupted_run_resumes_and_ends_as_a_clean_run_would(db, seed, job, monkeypatch):
    accounts = []
    for n in range(5):
        account = seed.points_account(seed.member_card(f"M{n}"))
        accounts.append(account)
        earn(db, account, 10 * (n + 1), f"old{n}", expires=NOW - DAY)
        earn(db, account, 5, f"new{n}", expires=NOW + 100 * DAY)
        if n % 2:
            spend(db, account, 3, f"spent{n}", at=NOW - 5 * DAY)
    real_expire_batch = services.expire_batch

    def fail_on_the_third_members_batch(db, ev, batch):
        totals = real_expire_batch(db, ev, batch)
        if batch.after_id < accounts[2] <= batch.last_id:
            raise RuntimeError("power cut")
        return totals

    monkeypatch.setattr(services, "expire_batch", fail_on_the_third_members_batch)
    with pytest.raises(RuntimeError):
        job(batch_size=2)  # on PostgreSQL two batches at once: the one after the failed batch rolls back too
    run = db.execute(select(ExpiryRun.last_account_id, ExpiryRun.accounts, ExpiryRun.finished_at)).one()
    assert run.finished_at is None and 0 < run.accounts == len(expiry_entries(db)) < 5
    assert [e.account_id for e in expiry_entries(db)] == [a for a in accounts if a <= run.last_account_id]
    db.commit()
    monkeypatch.setattr(services, "expire_batch", real_expire_batch)

    report = job(now=NOW + timedelta(hours=5), batch_size=2)  # later the same day: the run keeps its moment

    assert report.resumed_after == run.last_account_id and as_utc(report.now) == NOW
    entries = expiry_entries(db)
    expected = [10 * (n + 1) - (3 if n % 2 else 0) for n in range(5)]
    assert [(e.account_id, -e.amount) for e in entries] == list(zip(accounts, expected))
    assert all(as_utc(e.occurred_at) == NOW for e in entries)
    assert [ledger.balance_of(db, a) for a in accounts] == [5] * 5
    run = db.execute(select(ExpiryRun.accounts, ExpiryRun.points, ExpiryRun.finished_at)).one()
    assert (run.accounts, run.points, run.finished_at is not None) == (5, sum(expected), True)
    assert find_drift(db) == []


def test_a_batch_whose_position_another_process_moved_rolls_back(db, seed, job, monkeypatch):
    """Another process running the same run key moved the run's position while this batch worked
    (here the batch's own transaction stands in for it): the batch rolls back with a conflict
    rather than expire twice, and the run stays where it was."""
    for n in range(3):
        earn(db, seed.points_account(seed.member_card(f"M{n}")), 10, f"old{n}", expires=NOW - DAY)
    real_expire_batch = services.expire_batch

    def another_process_moves_the_run_on(db, ev, batch):
        if batch.after_id == 0:  # the first batch only: two batches updating one row would wait on each other
            db.execute(update(ExpiryRun).values(last_account_id=batch.last_id))
        return real_expire_batch(db, ev, batch)

    monkeypatch.setattr(services, "expire_batch", another_process_moves_the_run_on)
    with pytest.raises(Conflict, match="another process"):
        job(batch_size=2)
    assert db.scalar(select(ExpiryRun.last_account_id)) == 0 and expiry_entries(db) == []
    assert find_drift(db) == []


def test_the_batch_size_does_not_change_the_result(db, seed, job, engine):
    for n in range(4):
        account = seed.points_account(seed.member_card(f"M{n}"))
        earn(db, account, 7 + n, f"old{n}", expires=NOW - n * DAY)
        earn(db, account, 3, f"soon{n}", expires=NOW + (n + 1) * DAY)
    one_by_one = job(batch_size=1)
    assert (one_by_one.totals.accounts, one_by_one.totals.points, one_by_one.totals.warnings) == (4, 34, 4)
    assert find_drift(db) == []


def test_earns_and_spends_during_the_job_keep_the_ledger_in_balance(db, seed, job, engine):
    accounts = []
    for n in range(6):
        account = seed.points_account(seed.member_card(f"M{n}"))
        accounts.append(account)
        earn(db, account, 50, f"old{n}", expires=NOW - DAY)
        earn(db, account, 50, f"live{n}", expires=NOW + 100 * DAY)
    stop, failures = threading.Event(), []

    def till():
        n = 0
        with Session(engine) as session:
            try:
                while not stop.is_set():
                    for account in accounts:
                        n += 1
                        ledger.credit(session, account, 5, kind=ledger.EARN, business_key=f"t{n}",
                                      fingerprint=f"t{n}", occurred_at=NOW, expires_at=NOW + 100 * DAY)
                        session.commit()
                        ledger.debit(session, account, 3, business_key=f"s{n}", fingerprint=f"s{n}", now=NOW)
                        session.commit()
            except Exception as exc:  # reported below, in the test's thread
                failures.append(exc)

    thread = threading.Thread(target=till)
    thread.start()
    try:
        report = job(batch_size=1)
    finally:
        stop.set()
        thread.join(60)

    assert failures == []
    assert (report.totals.accounts, report.totals.points) == (6, 300)
    assert find_drift(db) == []


@pytest.fixture
def ini(tmp_path, database_url):
    return write_ini(tmp_path, database_url, "lps.points.expiry_warning_days = 10\n")


lps = run_lps


def test_the_command_dry_runs_then_runs(db, account, ini):
    earn(db, account, 100, "e1", expires=NOW - DAY)
    earn(db, account, 9, "e2", expires=NOW + 5 * DAY)
    spend(db, account, 30, "d1", at=NOW - 10 * DAY)
    before = snapshot(db)
    now = ["--now", "2026-06-01T03:00:00+00:00"]

    dry = lps(ini, "jobs", "expire", "--dry-run", *now)
    assert snapshot(db) == before
    done = lps(ini, "jobs", "expire", "--no-progress", *now)
    again = lps(ini, "jobs", "expire", *now)

    assert "would expire 70 points in 1 lots of 1 accounts; would write 1 warnings" in dry.stdout
    assert "accounts: 1  lots: 1  points expired: 70  warnings written: 1" in done.stdout
    assert "already finished" in again.stdout
    assert done.stderr == ""  # no progress bar when stderr is not a terminal
    assert ledger.balance_of(db, account) == 9
    assert find_drift(db) == []


# ------------------------------------------------------------------ reinstating expired points


def reinstate(db, entry_id, amount=None, key="appeal-1", expires=NOW + 90 * DAY, at=NOW + DAY):
    posting = services.reinstate(db, entry_id, amount, expires_at=expires, business_key=key, fingerprint=key,
                                 occurred_at=at, note="appeal upheld")
    db.commit()
    return posting


def test_expired_points_are_reinstated_in_a_new_lot_that_the_next_run_leaves_alone(db, account, job):
    earn(db, account, 100, "e1", expires=NOW - DAY)
    earn(db, account, 40, "e2", expires=NOW + 200 * DAY)
    spend(db, account, 30, "d1", at=NOW - 10 * DAY)
    job()
    (expired,) = expiry_entries(db)

    first = reinstate(db, expired.id, 50)
    rest = reinstate(db, expired.id, key="appeal-2")

    assert (first.amount, first.balance_after, rest.amount, rest.balance_after) == (50, 90, 20, 110)
    assert ledger.balance_of(db, account) == 110
    entries = db.execute(select(LedgerEntry.kind, LedgerEntry.reverses_id, LedgerEntry.amount)
                         .where(LedgerEntry.reverses_id == expired.id).order_by(LedgerEntry.id)).all()
    assert entries == [("reversal", expired.id, 50), ("reversal", expired.id, 20)]
    assert (lot_of(db, first.entry_id), lot_of(db, rest.entry_id)) == (50, 20)
    assert find_drift(db) == []
    assert job(now=NOW + 2 * DAY).totals.points == 0  # the new lots are not due
    assert ledger.balance_of(db, account) == 110
    spend(db, account, 105, "d2", at=NOW + 3 * DAY)  # reinstated points are spent like any others
    assert find_drift(db) == []


def test_an_expiry_is_reinstated_never_reversed_through_the_ledger(db, account, job):
    """An expiry records no lots to give back to: ledger.reverse refuses it rather than move the
    balance without a lot."""
    earn(db, account, 60, "e1", expires=NOW - DAY)
    job()
    (expired,) = expiry_entries(db)
    with pytest.raises(Conflict) as refused:
        ledger.reverse(db, expired.id, 10, business_key="appeal-x", fingerprint="appeal-x")
    assert "entry_id" in refused.value.fields
    db.rollback()
    assert ledger.balance_of(db, account) == 0
    assert find_drift(db) == []


def test_a_reinstatement_replays_and_never_gives_back_more_than_expired(db, account, job):
    earn(db, account, 60, "e1", expires=NOW - DAY)
    job()
    (expired,) = expiry_entries(db)
    first = reinstate(db, expired.id)

    again = reinstate(db, expired.id)
    assert again.replayed and (again.entry_id, again.amount) == (first.entry_id, 60)
    with pytest.raises(Conflict) as left:
        reinstate(db, expired.id, 1, key="appeal-2")
    assert "amount" in left.value.fields
    db.rollback()
    with pytest.raises(Conflict) as other_content:
        services.reinstate(db, expired.id, 5, expires_at=NOW + 9 * DAY, business_key="appeal-1",
                           fingerprint="other", occurred_at=NOW + DAY)
    assert "business_key" in other_content.value.fields
    db.rollback()
    assert ledger.balance_of(db, account) == 60 and find_drift(db) == []


def test_only_expiry_entries_are_reinstated_and_into_a_lot_that_is_not_expired(db, account, job):
    earned = earn(db, account, 60, "e1", expires=NOW - DAY)
    job()
    (expired,) = expiry_entries(db)
    with pytest.raises(Conflict) as not_expiry:
        reinstate(db, earned)
    assert "entry_id" in not_expiry.value.fields
    db.rollback()
    with pytest.raises(ValidationFailed) as stale:
        reinstate(db, expired.id, expires=NOW)
    assert "expires_at" in stale.value.fields
    db.rollback()
    with pytest.raises(ValidationFailed) as bad_amount:
        reinstate(db, expired.id, 0)
    assert "amount" in bad_amount.value.fields
    db.rollback()
    with pytest.raises(NotFound):
        reinstate(db, 10**9)
    db.rollback()
    assert ledger.balance_of(db, account) == 0 and find_drift(db) == []


def test_inactive_members_are_not_warned_about_points_they_lose_now(db, seed, job):
    idle, active = (seed.points_account(seed.member_card(name)) for name in ("idle", "active"))
    for n, account in enumerate((idle, active)):
        earn(db, account, 40, f"soon{n}", expires=NOW + 10 * DAY)
        earn(db, account, 60, f"later{n}", expires=NOW + 300 * DAY)
    members = dict(db.execute(select(Account.id, Account.member_id).where(Account.id.in_([idle, active]))).all())
    db.execute(update(Member).where(Member.id == members[idle]).values(last_activity_at=NOW - 400 * DAY))
    db.execute(update(Member).where(Member.id == members[active]).values(last_activity_at=NOW - 30 * DAY))
    db.commit()

    report = job(settings={"inactivity_months": 12}, batch_size=1)

    assert (report.totals.accounts, report.totals.points, report.totals.warnings) == (1, 100, 1)
    assert db.scalar(select(ExpiryWarning.account_id)) == active
    assert ledger.balance_of(db, idle) == 0 and ledger.balance_of(db, active) == 100
    assert find_drift(db) == []
