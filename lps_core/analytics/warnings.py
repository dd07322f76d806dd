"""The warnings: members about to churn, and credit lines near their limit or overdue.

Churn: a member's usual interval between visits is the trailing window (lps.analytics.
window_months) in days divided by their visits in it (bills and stays, from member_activity). A
member is at risk when their last visit (members.last_activity_at) is at least
lps.analytics.churn_days ago AND at least lps.analytics.churn_factor usual intervals ago. The value
at risk is what they spent in the window; the list is ranked by it. `churn_risk` is that
definition, written once: the view and the segments' churn-risk condition
(lps_core.marketing.segments, `at_churn_risk`) both read it. The view sums the window's visits
live; the segments' condition takes them from the nightly scoring while it is fresh and its
window is today's (lps_core.analytics.scoring.scored_activity), since summing a million members'
months took 1.4 s of a segment's count.

Credit: every card with a credit line whose usage (owed / limit) reached its card type's warning
ratio, or that owes charges older than lps.reports.overdue_days (repayments pay the oldest
charges first, as the credit report counts them)."""
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import DateTime, Float, Integer, String, and_, case, exists, func, literal, select, union_all

from lps_core.analytics.common import CURRENT, activity_in, days_between, null_of, page_info, paged, window_start
from lps_core.analytics.members import share
from lps_core.analytics.scoring import scored_activity
from lps_core.cards.models import Card, CardType
from lps_core.db import reports_session_of
from lps_core.exports import DATE, INTEGER, MONEY, RATIO, Column, Table
from lps_core.ledger.models import CREDIT, Account, LedgerEntry
from lps_core.members.models import Member, Tier
from lps_core.reports.report import Chart, Figure, Report
from lps_core.reports.texts import dgettext


@dataclass(frozen=True)
class ChurnRisk:
    """The churn warning at a moment: `activity` (per member: visits and spend over the trailing
    window), `absent` (days since the member's last visit, a float) and `condition` (the test over
    Member and `activity` that flags a member at risk)."""

    activity: object
    absent: object
    condition: object
    window_days: int


def churn_risk(db, now: datetime, today: date, settings, activity=None) -> ChurnRisk:
    """The churn warning's definition at `now` (`today` its local date), for any statement that
    joins `activity` to Member on member_id: the window's sums per member (member_id, visits and
    spend), by default those of the monthly counters now."""
    first_month = window_start(today, settings.window_months)
    window_days = (today - first_month).days + 1
    activity = activity_in(first_month, today) if activity is None else activity
    absent = days_between(db, Member.last_activity_at, literal(now, DateTime(timezone=True)))
    condition = and_(Member.status.in_(CURRENT), Member.last_activity_at < now - timedelta(days=settings.churn_days),
                     activity.c.visits > 0,
                     absent * activity.c.visits >= float(settings.churn_factor) * window_days)
    return ChurnRisk(activity, absent, condition, window_days)


def at_churn_risk(db, now: datetime, tz, settings):
    """A condition on Member, for any statement over members: the churn warning flags the member at
    `now`, programme-wide. The last visits and statuses are those of now; the window's visits are
    the fresh nightly scoring's if there is one over today's window (a visit since moves the last
    visit, so its member drops out at once), else the monthly counters' now. An EXISTS, so that the
    statement reads members once (joining a list of ids at risk read them twice: 0.9 s, not 0.5 s,
    at 1,000,000 members)."""
    today = now.astimezone(tz).date()
    risk = churn_risk(db, now, today, settings, scored_activity(db, today, settings))
    return exists().where(risk.activity.c.member_id == Member.id, risk.condition)


def churn(db, scope, filters, settings, export=False, now=None) -> Report:
    read = reports_session_of(db)
    now = now or datetime.now(timezone.utc)
    risk = churn_risk(db, now, now.astimezone(scope.tz).date(), settings)
    window_days, activity = risk.window_days, risk.activity
    outlets = scope.outlet_filter(Member.enrolled_outlet_id)
    candidates = (select(Member.id.label("id"), Member.name, Member.last_activity_at, Member.tier_id,
                         activity.c.visits, activity.c.spend, risk.absent.label("absent"))
                  .join(activity, activity.c.member_id == Member.id).where(risk.condition))
    if outlets is not None:
        candidates = candidates.where(outlets)
    at_risk = candidates.cte("at_risk")
    # One statement, so that the window's sums per member (most of the time at 1,000,000 members)
    # are computed once: the page's rows (part 0; the union takes its column types), then the
    # tiers' counts and sums (part 1).
    page = paged(select(at_risk).order_by(at_risk.c.spend.desc(), at_risk.c.id), filters.page, filters.per_page,
                 export).subquery("page")
    listed = select(literal(0).label("part"), page.c.id, page.c.name, page.c.last_activity_at, page.c.visits,
                    page.c.absent, page.c.spend, null_of(String, "tier"), null_of(Integer, "members"))
    tier = func.coalesce(Tier.code, "-")
    by_tier = (select(literal(1), null_of(Integer, "id"), null_of(String, "name"),
                      null_of(DateTime(timezone=True), "last_activity_at"), null_of(Integer, "visits"),
                      null_of(Float, "absent"), func.coalesce(func.sum(at_risk.c.spend), 0), tier, func.count())
               .select_from(at_risk).outerjoin(Tier, Tier.id == at_risk.c.tier_id).group_by(tier))
    both = union_all(listed, by_tier).subquery("both")
    answered = read.execute(select(both).order_by(both.c.part, both.c.tier, both.c.spend.desc(), both.c.id)).all()
    listed = [row for row in answered if row.part == 0]
    by_tier = [(row.tier, row.members, row.spend) for row in answered if row.part == 1]
    total, value = sum(int(count) for _, count, _ in by_tier), sum(int(spend) for _, _, spend in by_tier)
    rows = [{"member_id": row.id, "name": row.name, "last_visit": row.last_activity_at.astimezone(scope.tz).date(),
             "days_absent": int(row.absent), "visits": int(row.visits),
             "usual_interval": int(round(window_days / int(row.visits))), "value_at_risk": int(row.spend)}
            for row in listed]
    table = Table(dgettext("lps_analytics", "Members at risk"),
                  [Column("member_id", dgettext("lps_analytics", "Member"), INTEGER),
                   Column("name", dgettext("lps_analytics", "Name")),
                   Column("last_visit", dgettext("lps_analytics", "Last visit"), DATE),
                   Column("days_absent", dgettext("lps_analytics", "Days since"), INTEGER),
                   Column("visits", dgettext("lps_analytics", "Visits in the window"), INTEGER),
                   Column("usual_interval", dgettext("lps_analytics", "Usual interval (days)"), INTEGER),
                   Column("value_at_risk", dgettext("lps_analytics", "Value at risk"), MONEY)], rows)
    tier_rows = [{"tier": code, "members": int(count), "value_at_risk": int(spend)} for code, count, spend in by_tier]
    tier_table = Table(dgettext("lps_analytics", "By tier"),
                       [Column("tier", dgettext("lps_analytics", "Tier")),
                        Column("members", dgettext("lps_analytics", "Members"), INTEGER),
                        Column("value_at_risk", dgettext("lps_analytics", "Value at risk"), MONEY)], tier_rows,
                       {"members": int(total), "value_at_risk": int(value)}, dgettext("lps_analytics", "Total"))
    chart = Chart([row["tier"] for row in tier_rows],
                  [(dgettext("lps_analytics", "Members"), [row["members"] for row in tier_rows], "bar", INTEGER),
                   (dgettext("lps_analytics", "Value at risk"), [row["value_at_risk"] for row in tier_rows], "line",
                    MONEY)], dgettext("lps_analytics", "Members at risk by tier"))
    figures = [Figure("at_risk", dgettext("lps_analytics", "Members at risk"), INTEGER, int(total)),
               Figure("value_at_risk", dgettext("lps_analytics", "Value at risk"), MONEY, int(value)),
               Figure("churn_days", dgettext("lps_analytics", "Days without a visit at least"), INTEGER,
                      settings.churn_days),
               Figure("churn_factor", dgettext("lps_analytics", "Usual intervals missed at least"), RATIO,
                      settings.churn_factor)]
    return Report("churn", dgettext("lps_analytics", "Churn warning"), scope, figures, [table, tier_table], chart,
                  page=page_info(filters, int(total), export))


def credit_warning(db, scope, filters, settings, export=False, now=None, overdue_days=30) -> Report:
    read = reports_session_of(db)
    now = now or datetime.now(timezone.utc)
    recent = now - timedelta(days=overdue_days)
    limit = func.coalesce(Card.credit_limit_cents, CardType.credit_limit_cents)
    charged_lately = (select(LedgerEntry.account_id.label("account_id"),
                             func.sum(LedgerEntry.amount).label("recent"))
                      .join(Account, Account.id == LedgerEntry.account_id)
                      .where(Account.kind == CREDIT, LedgerEntry.kind == "charge", LedgerEntry.occurred_at >= recent)
                      .group_by(LedgerEntry.account_id).subquery("recent"))
    overdue = Account.balance - func.coalesce(charged_lately.c.recent, 0)
    overdue = case((overdue > 0, overdue), else_=0)
    lines = (select(Card.id.label("card_id"), Card.card_no, Card.member_id, Member.name, CardType.code.label("card_type"),
                    limit.label("credit_limit"), Account.balance.label("owed"), overdue.label("overdue"),
                    CardType.credit_warning_ratio.label("ratio"))
             .select_from(Account).join(Card, Card.id == Account.card_id).join(CardType, CardType.id == Card.card_type_id)
             .outerjoin(Member, Member.id == Card.member_id)
             .outerjoin(charged_lately, charged_lately.c.account_id == Account.id)
             .where(Account.kind == CREDIT, Account.balance > 0, limit.is_not(None), limit > 0,
                    (Account.balance >= limit * CardType.credit_warning_ratio) | (overdue > 0)))
    outlets = scope.outlet_filter(Card.issued_outlet_id)
    if outlets is not None:
        lines = lines.where(outlets)
    lines = lines.subquery("lines")
    total, owed, late = read.execute(select(func.count(), func.coalesce(func.sum(lines.c.owed), 0),
                                            func.coalesce(func.sum(lines.c.overdue), 0))).one()
    listed = read.execute(paged(select(lines).order_by(lines.c.overdue.desc(), lines.c.owed.desc(), lines.c.card_no),
                                filters.page, filters.per_page, export)).all()
    rows = [{"card_no": row.card_no, "member_id": row.member_id, "name": row.name or "", "card_type": row.card_type,
             "credit_limit": int(row.credit_limit), "owed": int(row.owed), "usage": share(int(row.owed), int(row.credit_limit)),
             "overdue": int(row.overdue)} for row in listed]
    table = Table(dgettext("lps_analytics", "Credit lines to watch"),
                  [Column("card_no", dgettext("lps_analytics", "Card no.")),
                   Column("member_id", dgettext("lps_analytics", "Member"), INTEGER),
                   Column("name", dgettext("lps_analytics", "Name")),
                   Column("card_type", dgettext("lps_analytics", "Card type")),
                   Column("credit_limit", dgettext("lps_analytics", "Limit"), MONEY),
                   Column("owed", dgettext("lps_analytics", "Owed"), MONEY),
                   Column("usage", dgettext("lps_analytics", "Usage"), RATIO),
                   Column("overdue", dgettext("lps_analytics", "Overdue"), MONEY)], rows)
    chart = Chart([row["card_no"] for row in rows[:20]],
                  [(dgettext("lps_analytics", "Owed"), [row["owed"] for row in rows[:20]], "bar", MONEY),
                   (dgettext("lps_analytics", "Overdue"), [row["overdue"] for row in rows[:20]], "bar", MONEY)],
                  dgettext("lps_analytics", "Credit lines to watch"))
    figures = [Figure("cards", dgettext("lps_analytics", "Cards to watch"), INTEGER, int(total)),
               Figure("owed", dgettext("lps_analytics", "Owed"), MONEY, int(owed)),
               Figure("overdue", dgettext("lps_analytics", "Overdue"), MONEY, int(late))]
    return Report("credit", dgettext("lps_analytics", "Credit warning"), scope, figures, [table], chart,
                  page=page_info(filters, int(total), export))
