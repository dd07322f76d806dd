"""`lps jobs birthdays`: who is greeted when, once per member and year, with the bonus as a ledger
entry and the greeting through the outbox (consent respected); the command with --dry-run."""
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select, update

from lps_core.birthdays.jobs import birthday_days, greet_birthdays
from lps_core.birthdays.models import BirthdayGreeting
from lps_core.db import get_session_factory, run_in_transaction
from lps_core.ledger.check import find_drift
from lps_core.ledger.models import POINTS, Account, LedgerEntry
from lps_core.members.models import Member
from lps_core.members.services import Enrolment, approve_member, enrol_member
from lps_core.messages.consent import set_consent
from lps_core.messages.models import OutboxMessage
from lps_core.testing import TEST_SETTINGS, run_lps, write_ini

NOW = datetime(2026, 6, 1, 1, 0, tzinfo=timezone.utc)  # 09:00 on 1 June in Shanghai


class JobEnvironment:
    """What `lps jobs birthdays` gets from the CLI, on the test database."""

    def __init__(self, engine, plugins, **settings):
        self.settings = {"lps.timezone": "Asia/Shanghai", **TEST_SETTINGS, **settings}
        self.session_factory = get_session_factory(engine)
        self.plugins = plugins

    def transaction(self, work):
        return run_in_transaction(self.session_factory, work)


@pytest.fixture
def job(engine, plugins, db, seed):
    def run(now=NOW, settings=None, **options):
        db.commit()  # on SQLite the test's session would hold the write lock the job needs
        report = greet_birthdays(JobEnvironment(engine, plugins, **(settings or {})), now=now, **options)
        db.expire_all()
        return report

    return run


def member(db, birthday, *, name="Li Wei", email="li@example.test", status=None, consent=True) -> int:
    member_id = enrol_member(db, Enrolment(name=name, channel="desk", phone="+8613912345678", email=email,
                                           birthday=birthday), force_duplicate_phone=True)
    approve_member(db, member_id)
    if status:
        db.execute(update(Member).where(Member.id == member_id).values(status=status))
    if consent:
        for channel in ("email", "sms", "inbox"):
            set_consent(db, member_id, channel, True, source="staff")
    db.commit()
    return member_id


def points_of(db, member_id) -> int:
    return db.scalar(select(Account.balance).where(Account.member_id == member_id, Account.kind == POINTS))


def greetings(db) -> list:
    return db.scalars(select(OutboxMessage).where(OutboxMessage.event == "birthday").order_by(OutboxMessage.id)).all()


def test_members_are_greeted_on_their_birthday_in_the_programmes_time_zone(job, db):
    today = member(db, date(1980, 6, 1))
    tomorrow = member(db, date(1990, 6, 2), name="Wang Fang")
    report = job()
    assert (report.members, report.points, report.day) == (1, 0, date(2026, 6, 1))
    assert {row.member_id for row in greetings(db)} == {today}
    assert tomorrow not in {row.member_id for row in greetings(db)}
    assert db.get(BirthdayGreeting, (today, 2026)).messages == len(greetings(db))


def test_the_greeting_goes_to_each_channel_the_member_agreed_to_in_the_default_language(job, db):
    member_id = member(db, date(1980, 6, 1))
    job()
    rows = greetings(db)
    assert sorted(row.channel for row in rows) == ["email", "inbox", "sms"]
    assert all(row.kind == "marketing" and row.language == "zh_CN" for row in rows)
    assert rows[0].subject == "Li Wei，生日快乐！"
    assert rows[0].dedupe_key == f"birthday:{member_id}:2026"


def test_the_greeting_is_in_the_configured_language(job, db):
    member(db, date(1980, 6, 1))
    job(settings={"lps.messages.default_language": "en", "lps.birthdays.bonus_points": "500"})
    (email,) = [row for row in greetings(db) if row.channel == "email"]
    assert email.subject == "Happy birthday, Li Wei!"
    assert "We have added 500 birthday points to your account." in email.body


def test_consent_is_respected(job, db):
    member(db, date(1980, 6, 1), consent=False)
    report = job()
    assert report.members == 1  # greeted: the year is done, whatever the channels
    assert greetings(db) == []


def test_the_bonus_is_a_ledger_entry_with_a_business_key_per_member_and_year(job, db):
    member_id = member(db, date(1980, 6, 1))
    report = job(settings={"lps.birthdays.bonus_points": "500"})
    assert report.points == 500
    assert points_of(db, member_id) == 500
    entry = db.scalar(select(LedgerEntry).where(LedgerEntry.business_key == f"birthday:{member_id}:2026"))
    assert (entry.kind, entry.amount) == ("bonus", 500)
    assert db.get(BirthdayGreeting, (member_id, 2026)).entry_id == entry.id
    assert find_drift(db) == []


def test_a_second_run_greets_nobody_twice(job, db):
    member_id = member(db, date(1980, 6, 1))
    settings = {"lps.birthdays.bonus_points": "500"}
    first = job(settings=settings)
    again = job(settings=settings)
    later_that_week = job(now=datetime(2026, 6, 5, 1, 0, tzinfo=timezone.utc), settings=settings)
    assert (first.members, again.members, later_that_week.members) == (1, 0, 0)
    assert points_of(db, member_id) == 500
    assert len(greetings(db)) == 3


def test_next_year_greets_again(job, db):
    member_id = member(db, date(1980, 6, 1))
    job(settings={"lps.birthdays.bonus_points": "100"})
    report = job(now=datetime(2027, 6, 1, 1, 0, tzinfo=timezone.utc), settings={"lps.birthdays.bonus_points": "100"})
    assert report.members == 1
    assert points_of(db, member_id) == 200
    assert {row.year for row in db.scalars(select(BirthdayGreeting))} == {2026, 2027}


def test_missed_days_are_caught_up_within_the_configured_days(job, db):
    three_days_ago = member(db, date(1980, 5, 29))
    ten_days_ago = member(db, date(1980, 5, 22), name="Wang Fang")
    job()
    greeted = {row.member_id for row in db.scalars(select(BirthdayGreeting))}
    assert three_days_ago in greeted and ten_days_ago not in greeted
    job(settings={"lps.birthdays.catch_up_days": "0"}, now=datetime(2026, 6, 2, 1, 0, tzinfo=timezone.utc))
    assert {row.member_id for row in db.scalars(select(BirthdayGreeting))} == greeted


def test_only_active_and_dormant_members_are_greeted(job, db):
    active = member(db, date(1980, 6, 1))
    dormant = member(db, date(1980, 6, 1), name="B", status="dormant")
    member(db, date(1980, 6, 1), name="C", status="closed")
    member(db, date(1980, 6, 1), name="D", status="suspended")
    job()
    assert {row.member_id for row in db.scalars(select(BirthdayGreeting))} == {active, dormant}


def test_the_29th_of_february_is_kept_on_the_28th_in_other_years():
    assert birthday_days(date(2027, 2, 28), 0) == [(2, 28, 2027), (2, 29, 2027)]
    assert birthday_days(date(2028, 2, 28), 0) == [(2, 28, 2028)]
    assert birthday_days(date(2026, 3, 2), 2) == [(3, 2, 2026), (3, 1, 2026), (2, 28, 2026), (2, 29, 2026)]


def test_batches_cover_everyone(job, db):
    members = {member(db, date(1980, 6, 1), name=f"M{n}") for n in range(5)}
    report = job(batch_size=2, settings={"lps.birthdays.bonus_points": "10"})
    assert report.members == 5 and report.points == 50
    assert {row.member_id for row in db.scalars(select(BirthdayGreeting))} == members


def test_a_dry_run_counts_and_changes_nothing(job, db):
    member(db, date(1980, 6, 1))
    member(db, date(1980, 6, 1), name="Wang Fang")
    report = job(dry_run=True, settings={"lps.birthdays.bonus_points": "500"})
    assert (report.members, report.points) == (2, 1000)
    assert "would greet 2 members and credit 1,000 points" in report.summary()
    assert db.scalars(select(BirthdayGreeting)).all() == []
    assert greetings(db) == []


@pytest.fixture
def ini(tmp_path, database_url):
    return write_ini(tmp_path, database_url, "lps.timezone = Asia/Shanghai\nlps.birthdays.bonus_points = 300\n")


lps = run_lps


def test_the_command_dry_runs_then_runs_once(db, seed, ini):
    member_id = member(db, date(1980, 6, 1))
    now = ["--now", "2026-06-01T09:00:00+08:00"]
    dry = lps(ini, "jobs", "birthdays", "--dry-run", *now)
    assert "would greet 1 members and credit 300 points" in dry.stdout
    assert db.scalars(select(BirthdayGreeting)).all() == []
    done = lps(ini, "jobs", "birthdays", "--no-progress", *now)
    again = lps(ini, "jobs", "birthdays", *now)
    assert "greeted 1 members, credited 300 points" in done.stdout
    assert "greeted 0 members" in again.stdout
    assert done.stderr == ""  # no progress bar when stderr is not a terminal
    db.commit()  # a new snapshot: SQLite's reader keeps the one its transaction began with
    assert points_of(db, member_id) == 300
