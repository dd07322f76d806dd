"""`lps jobs rfm`: the nightly RFM scoring.

Scoring ranks every scored member three times (lps_core.analytics.rfm.scored), which at a million
members takes seconds. The job does it once a night, as of the end of a day in lps.timezone (by
default yesterday, the last whole day), and keeps each member's R, F, M, quadrant and place in
the quadrant's list (rfm_scores), with the members and spend per (quadrant, r, f, m) on the
scoring (rfm_scorings.cells). It writes the whole scoring in one transaction, then drops the
older ones, so a reader sees one complete scoring or the one before.

The RFM screen reads the latest scoring when it answers for the whole programme as of that day
(by default it does, while the scoring is at most a day old), and a segment on RFM quadrants
reads it while it is that fresh; otherwise both score live. A segment's churn-risk condition takes
the window's visits from it too (`scored_activity`), while its window is today's. A scoring is the
live scoring of its moment: tests/test_analytics.py checks the two give the same figures and
lists. A posting dated back into the window later (an appeal, say) changes the live scoring of
that day, not the stored one, until the next night's."""
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import delete, func, insert, literal, select, text

from lps_core.analytics.common import window_start
from lps_core.analytics.models import RfmScore, RfmScoring
from lps_core.analytics.settings import AnalyticsSettings
from lps_core.db import tune_for_aggregates
from lps_core.errors import ValidationFailed
from lps_core.reports.scope import local_start
from lps_core.settings import settings_of
from lps_core.timeutil import utcnow

FRESH_DAYS = 1  # a scoring as of yesterday is today's default


def whole_programme(last_day: date, ends: datetime):
    """The scope of a scoring of every member (lps_core.analytics.rfm.scored): the window ends
    with last_day's month, and the last visits counted are those before `ends`."""
    return SimpleNamespace(last_day=last_day, ends=ends, outlet_ids=None, outlet_filter=lambda column: None)


def latest_scoring(db) -> RfmScoring | None:
    return db.scalars(select(RfmScoring).where(RfmScoring.cells.is_not(None))
                      .order_by(RfmScoring.id.desc()).limit(1)).first()


def fresh_scoring(db, today: date, settings: AnalyticsSettings) -> RfmScoring | None:
    """The latest scoring, if it is as of yesterday or today and over the configured window."""
    scoring = latest_scoring(db)
    if scoring is None or scoring.window_months != settings.window_months:
        return None
    return scoring if scoring.as_of >= today - timedelta(days=FRESH_DAYS) else None


def scored_activity(db, today: date, settings: AnalyticsSettings):
    """The fresh scoring's window sums per member (a subquery: member_id, visits, spend), if its
    window is today's: the same months, so they are the monthly counters' sums of the night (on a
    month's first day, yesterday's window is another). None otherwise."""
    scoring = fresh_scoring(db, today, settings)
    months = settings.window_months
    if scoring is None or window_start(scoring.as_of, months) != window_start(today, months):
        return None
    return (select(RfmScore.member_id.label("member_id"), RfmScore.visits.label("visits"),
                   RfmScore.spend.label("spend"))
            .where(RfmScore.scoring_id == scoring.id).subquery("activity"))


def score(db, as_of: date, tz, settings: AnalyticsSettings, *, now: datetime) -> RfmScoring:
    """Score every member as of as_of's end and store it (one transaction: the caller's)."""
    from lps_core.analytics.rfm import scored

    tune_for_aggregates(db)
    scoring = RfmScoring(as_of=as_of, window_months=settings.window_months, scored_at=now, members=0)
    db.add(scoring)
    db.flush()
    rows = scored(whole_programme(as_of, local_start(as_of + timedelta(days=1), tz)), SimpleNamespace(channel=None),
                  settings).subquery("scored")
    place = func.row_number().over(partition_by=rows.c.quadrant, order_by=(rows.c.spend.desc(), rows.c.id))
    columns = ("scoring_id", "member_id", "quadrant", "place", "r", "f", "m", "visits", "spend", "last_visit")
    db.execute(insert(RfmScore).from_select(columns, select(
        literal(scoring.id), rows.c.id, rows.c.quadrant, place, rows.c.r, rows.c.f, rows.c.m, rows.c.visits,
        rows.c.spend, rows.c.last_visit)))
    cells = db.execute(select(RfmScore.quadrant, RfmScore.r, RfmScore.f, RfmScore.m, func.count(),
                              func.sum(RfmScore.spend))
                       .where(RfmScore.scoring_id == scoring.id)
                       .group_by(RfmScore.quadrant, RfmScore.r, RfmScore.f, RfmScore.m)).all()
    scoring.cells = [[quadrant, int(r), int(f), int(m), int(members), int(spend)]
                     for quadrant, r, f, m, members, spend in cells]
    scoring.members = sum(cell[4] for cell in scoring.cells)
    db.flush()
    if db.get_bind().dialect.name == "postgresql":
        # Statistics now, not when autovacuum comes by: without them a segment's quadrants were
        # planned as a few rows, a nested loop over half a million members (2.7 s instead of 0.5 s).
        db.execute(text("ANALYZE rfm_scores"))
    return scoring


def drop_before(db, scoring_id: int) -> int:
    """Drop the scorings older than scoring_id, with their scores; the number of scores dropped."""
    dropped = db.execute(delete(RfmScore).where(RfmScore.scoring_id < scoring_id)).rowcount
    db.execute(delete(RfmScoring).where(RfmScoring.id < scoring_id))
    return dropped


@dataclass
class ScoringReport:
    as_of: date
    members: int
    dropped: int

    def summary(self) -> str:
        return (f"RFM scores as of {self.as_of.isoformat()}: {self.members:,} members scored"
                f"; {self.dropped:,} older scores dropped")


def run_rfm_job(env, args) -> int:
    """The CLI entry point (lps_core.cli.cmd_jobs_rfm)."""
    tz = settings_of(env.settings).timezone
    now = utcnow()
    yesterday = now.astimezone(tz).date() - timedelta(days=1)
    as_of = yesterday if not args.as_of else _day(args.as_of)
    if as_of > yesterday + timedelta(days=1):
        raise ValidationFailed("--as-of must not be after today", {"as_of": "must not be after today"})
    settings = AnalyticsSettings.from_mapping(env.settings)
    scoring_id, members = env.transaction(lambda db: _scored(db, as_of, tz, settings, now))
    dropped = env.transaction(lambda db: drop_before(db, scoring_id))
    print(ScoringReport(as_of, members, dropped).summary())
    return 0


def _scored(db, as_of, tz, settings, now):
    scoring = score(db, as_of, tz, settings, now=now)
    return scoring.id, scoring.members


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(f"--as-of must be a date, YYYY-MM-DD, not {value!r}",
                               {"as_of": "must be a date, YYYY-MM-DD"}) from None
