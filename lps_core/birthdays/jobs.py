"""`lps jobs birthdays`: greet members on their birthday, once per member and year, and credit the
configured birthday bonus (lps.birthdays.bonus_points).

The job finds, in SQL, the active and dormant members whose birthday (month and day) falls on
today or on one of the lps.birthdays.catch_up_days days before (in lps.timezone), and who have no
greeting for that birthday's year; a birthday on 29 February is kept on 28 February in other years.
It walks them in id order, `--batch-size` at a time, one committed transaction per batch:

1. claim each member's (member, year) row in birthday_greetings (INSERT ... ON CONFLICT DO
   NOTHING): a member greeted already, by an earlier run or by another process now, is skipped;
2. credit the bonus through the ledger, business key `birthday:<member>:<year>`, in a lot that
   expires by the programme's expiry policy (every change of points is a ledger entry; a retry
   replays the first);
3. queue the `birthday` message through the outbox (lps_core.messages.outbox.enqueue), a marketing
   event: only on the channels the member agreed to; quiet hours apply when the worker sends;
4. with lps.birthdays.coupon_type set, issue that coupon type to the batch's greeted members in one
   statement (lps_core.coupons.services.issue_coupons, source `birthday`, keyed by the year).

So the job is idempotent (a second run the same day or year greets nobody twice) and resumable (an
interrupted run leaves whole batches done; the next run does the rest). `--dry-run` counts the
members it would greet and the points it would credit, and writes nothing."""
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, exists, extract, func, literal, or_, select, update

from lps_core.batch_jobs import BatchedRun, run_job_command
from lps_core.birthdays.models import BirthdayGreeting
from lps_core.expiry.policy import ExpiryPolicy
from lps_core.ledger import services as ledger
from lps_core.ledger.models import POINTS, Account
from lps_core.members.models import Member
from lps_core.messages.outbox import enqueue
from lps_core.outlets.models import Outlet
from lps_core.coupons.services import issue_coupons
from lps_core.settings import settings_of
from lps_core.timeutil import utcnow

DEFAULT_BATCH_SIZE = 1000
GREETED_STATUSES = ("active", "dormant")
BONUS_TEXT = {"zh_CN": "我们已为您的账户赠送 {points} 生日积分。",
              "en": "We have added {points} birthday points to your account."}


@dataclass
class BirthdayReport:
    day: date
    dry_run: bool
    members: int = 0
    points: int = 0
    messages: int = 0

    def summary(self) -> str:
        if self.dry_run:
            return (f"birthdays of {self.day.isoformat()} (dry run: nothing changed): would greet {self.members:,} "
                    f"members and credit {self.points:,} points")
        return (f"birthdays of {self.day.isoformat()}: greeted {self.members:,} members, credited {self.points:,} "
                f"points, queued {self.messages:,} messages")


def run_birthday_job(env, args) -> int:
    """The CLI entry point (lps_core.cli.cmd_jobs_birthdays)."""
    return run_job_command(env, args, greet_birthdays)


def birthday_days(today: date, catch_up_days: int) -> list[tuple[int, int, int]]:
    """(month, day, year) of the birthdays greeted on `today`: today's and the catch-up days',
    with 29 February on 28 February of a year that has none."""
    found = []
    for back in range(catch_up_days + 1):
        day = today - timedelta(days=back)
        found.append((day.month, day.day, day.year))
        if (day.month, day.day) == (2, 28) and (day + timedelta(days=1)).month == 3:
            found.append((2, 29, day.year))
    return found


def due_members(days, after_id=0, limit=None):
    """The members to greet, with the year of the birthday they are greeted for (one statement)."""
    conditions = []
    for month, day, year_of_day in days:
        greeted = exists().where(BirthdayGreeting.member_id == Member.id, BirthdayGreeting.year == year_of_day)
        conditions.append((and_(extract("month", Member.birthday) == month, extract("day", Member.birthday) == day,
                                ~greeted), year_of_day))
    year = case(*conditions, else_=literal(None))
    query = (select(Member.id, Member.name, year.label("year"))
             .where(Member.birthday.is_not(None), Member.status.in_(GREETED_STATUSES), Member.id > after_id,
                    or_(*(condition for condition, _ in conditions)))
             .order_by(Member.id))
    return query.limit(limit) if limit else query


def greet_birthdays(env, *, now=None, dry_run=False, batch_size=None, progress=False) -> BirthdayReport:
    """Greet (or, dry, count) the members whose birthday is due at `now`; see the module docstring."""
    now = now or utcnow()
    settings = settings_of(env.settings)
    options = settings.birthdays
    today = now.astimezone(settings.timezone).date()
    days = birthday_days(today, options.catch_up_days)
    report = BirthdayReport(today, dry_run)
    batch_size = batch_size or DEFAULT_BATCH_SIZE
    total = env.transaction(lambda db: db.scalar(select(func.count()).select_from(due_members(days).subquery())))
    with BatchedRun(env, total, progress=progress) as run:
        if dry_run:
            report.members, report.points = total, total * options.bonus_points
            run.counted()
            return report
        plan = _Plan(now, settings, ExpiryPolicy.of(settings.expiry).lot_expires_at(now),
                     list(env.plugins.channels))
        for members, points, messages in run.batches(lambda db, after_id: _greet_batch(db, plan, days, after_id,
                                                                                        batch_size)):
            report.members += members
            report.points += points
            report.messages += messages
    return report


@dataclass(frozen=True)
class _Plan:
    now: datetime
    settings: object
    bonus_expires_at: datetime
    channels: list


def _greet_batch(db, plan, days, after_id, batch_size):
    """One committed batch: (last member id, members greeted, points credited, messages queued), or
    None when no member is left."""
    rows = db.execute(due_members(days, after_id, batch_size)).all()
    if not rows:
        return None
    options, language = plan.settings.birthdays, plan.settings.messages.default_language
    outlet_id = db.scalar(select(Outlet.id).where(Outlet.code == options.outlet)) if options.outlet else None
    greeted = points = messages = 0
    coupons = {}  # year -> members greeted in this batch, issued the birthday coupon together
    for member_id, _name, year in rows:
        if not _claim(db, member_id, year, plan.now):
            continue  # greeted by another process since the batch was read
        greeted += 1
        coupons.setdefault(year, []).append(member_id)
        entry_id, bonus = _credit_bonus(db, member_id, year, options.bonus_points, plan, outlet_id)
        sentence = BONUS_TEXT[language].format(points=f"{bonus:,}") if bonus else ""
        queued = enqueue(db, "birthday", member_id=member_id, context={"bonus_points": sentence},
                         key=f"{member_id}:{year}", outlet_id=outlet_id, language=language, channels=plan.channels)
        db.execute(update(BirthdayGreeting).where(BirthdayGreeting.member_id == member_id,
                                                  BirthdayGreeting.year == year)
                   .values(points=bonus, entry_id=entry_id, messages=len(queued)))
        points += bonus
        messages += len(queued)
    if options.coupon_type:
        for year, member_ids in coupons.items():
            issue_coupons(db, options.coupon_type, member_ids, source="birthday", source_ref=str(year), now=plan.now,
                          tz=plan.settings.timezone)
    return rows[-1].id, greeted, points, messages


def _claim(db, member_id, year, now) -> bool:
    if db.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    claimed = db.scalar(insert(BirthdayGreeting).values(member_id=member_id, year=year, greeted_at=now, points=0,
                                                        messages=0)
                        .on_conflict_do_nothing(index_elements=["member_id", "year"])
                        .returning(BirthdayGreeting.member_id))
    return claimed is not None


def _credit_bonus(db, member_id, year, points, plan, outlet_id) -> tuple[int | None, int]:
    """(ledger entry id, points) of the member's birthday bonus; (None, 0) without one."""
    if points <= 0:
        return None, 0
    account_id = db.scalar(select(Account.id).where(Account.member_id == member_id, Account.kind == POINTS))
    if account_id is None:
        return None, 0
    key = f"birthday:{member_id}:{year}"
    note = f"birthday bonus {year}"
    posting = ledger.credit(db, account_id, points, kind="bonus", business_key=key, fingerprint=key,
                            occurred_at=plan.now, expires_at=plan.bonus_expires_at, outlet_id=outlet_id, note=note,
                            breakdown=[{"step": "birthday", "rule": "birthday", "points": points, "description": note}])
    return posting.entry_id, points
