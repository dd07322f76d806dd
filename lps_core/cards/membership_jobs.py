"""`lps jobs memberships`: remind members before their paid membership ends.

For each paid membership card type with a reminder (card_types.membership_reminder_days), one
statement finds the periods that are due: paid, the last period of a card that still holds its
membership (active or frozen), ending within the type's reminder days from now and not yet ended,
and not reminded yet. The job walks them in id order, `--batch-size` at a time, one committed
transaction per batch: it marks each period reminded (UPDATE ... WHERE reminded_at IS NULL, so a
period another run reminded meanwhile is skipped) and queues the `membership_expiring` message
through the outbox (lps_core.messages.outbox.enqueue, a service message keyed by the period, so it
is never queued twice).

A renewal adds a later period, so a renewed membership is not reminded of the end it no longer
has; its new last period is reminded in its turn. Expiry itself needs no job: the card's validity
is the membership, and the card is refused once it ends. So the job is idempotent (a second run
reminds nobody twice) and resumable; `--dry-run` counts whom it would remind and writes nothing."""
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.orm import aliased

from lps_core.batch_jobs import BatchedRun, run_job_command
from lps_core.cards.membership import HELD_STATUSES
from lps_core.cards.models import Card, CardType, MembershipPeriod
from lps_core.messages.outbox import enqueue
from lps_core.money import format_cents
from lps_core.settings import settings_of
from lps_core.timeutil import as_utc, utcnow

DEFAULT_BATCH_SIZE = 1000
EVENT = "membership_expiring"


@dataclass
class ReminderReport:
    day: date
    dry_run: bool
    members: int = 0
    messages: int = 0

    def summary(self) -> str:
        if self.dry_run:
            return (f"memberships of {self.day.isoformat()} (dry run: nothing changed): would remind "
                    f"{self.members:,} members")
        return (f"memberships of {self.day.isoformat()}: reminded {self.members:,} members, queued "
                f"{self.messages:,} messages")


def run_membership_job(env, args) -> int:
    """The CLI entry point (lps_core.cli.cmd_jobs_memberships)."""
    return run_job_command(env, args, remind_memberships)


def due_periods(card_type, now, after_id=0, limit=None):
    """The periods of `card_type` to remind at `now`, with their card number (one statement)."""
    later = aliased(MembershipPeriod)
    query = (select(MembershipPeriod.id, MembershipPeriod.member_id, MembershipPeriod.ends_at, Card.card_no)
             .join(Card, Card.id == MembershipPeriod.card_id)
             .where(MembershipPeriod.card_type_id == card_type.id, MembershipPeriod.status == "paid",
                    MembershipPeriod.reminded_at.is_(None), MembershipPeriod.ends_at > now,
                    MembershipPeriod.ends_at <= now + timedelta(days=card_type.membership_reminder_days),
                    Card.status.in_(HELD_STATUSES), MembershipPeriod.id > after_id,
                    ~exists().where(and_(later.card_id == MembershipPeriod.card_id, later.status == "paid",
                                         later.ends_at > MembershipPeriod.ends_at)))
             .order_by(MembershipPeriod.id))
    return query.limit(limit) if limit else query


def remind_memberships(env, *, now=None, dry_run=False, batch_size=None, progress=False) -> ReminderReport:
    """Remind (or, dry, count) the members whose membership ends soon; see the module docstring."""
    now = now or utcnow()
    settings = settings_of(env.settings)
    report = ReminderReport(now.astimezone(settings.timezone).date(), dry_run)
    types = env.transaction(lambda db: [
        _TypeView(row.id, row.code, row.name, row.membership_reminder_days, row.membership_fee_cents)
        for row in db.scalars(select(CardType).where(CardType.membership_fee_cents.is_not(None),
                                                     CardType.membership_reminder_days.is_not(None)))])
    total = env.transaction(lambda db: sum(
        db.scalar(select(func.count()).select_from(due_periods(card_type, now).subquery())) for card_type in types))
    with BatchedRun(env, total, progress=progress) as run:
        if dry_run:
            report.members = total
            run.counted()
            return report
        channels = list(env.plugins.channels)
        for card_type in types:  # each type's periods in id order, one walk per type
            for members, messages in run.batches(lambda db, after_id: _remind_batch(
                    db, card_type, now, after_id, batch_size or DEFAULT_BATCH_SIZE, settings, channels)):
                report.members += members
                report.messages += messages
    return report


@dataclass(frozen=True)
class _TypeView:
    id: int
    code: str
    name: str
    membership_reminder_days: int
    fee_cents: int


def _remind_batch(db, card_type, now, after_id, batch_size, settings, channels):
    """One committed batch: (last period id, members reminded, messages queued), or None when none is left."""
    rows = db.execute(due_periods(card_type, now, after_id, batch_size)).all()
    if not rows:
        return None
    reminded = messages = 0
    tz = settings.timezone
    for period_id, member_id, ends_at, card_no in rows:
        claimed = db.execute(update(MembershipPeriod).where(MembershipPeriod.id == period_id,
                                                            MembershipPeriod.reminded_at.is_(None))
                             .values(reminded_at=now)).rowcount
        if not claimed:
            continue  # reminded by another run since the batch was read
        reminded += 1
        last_day = (as_utc(ends_at) - timedelta(microseconds=1)).astimezone(tz).date().isoformat()
        messages += len(enqueue(db, EVENT, member_id=member_id, key=str(period_id), channels=channels, context={
            "membership": card_type.name, "card_no": card_no, "expires_on": last_day,
            "fee": format_cents(card_type.fee_cents)}))
    return rows[-1].id, reminded, messages
