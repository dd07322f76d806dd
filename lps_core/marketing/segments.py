"""Segments: a saved definition turned into one set-based statement over members, evaluated when
it is used (a count, a preview, an export, a campaign at send time), never a stored list.

`members_of(db, definition, now, tz)` is a SELECT of member ids: each condition is an EXISTS or a
join on indexed keys (tiers, cards, outlets, the monthly counters of member_activity, bills by
member), so PostgreSQL counts a million members without reading a row per member in Python. They
keep the server's own work_mem: with lps_core.db.tune_for_aggregates' 64 MB the planner hashed the
churn-risk condition's window sums in each parallel worker, and its count took 3.0 s instead of
1.5 s at 1,000,000 members; no other condition was faster with it (bench/README.md, segments.py).
`_plan_for` turns JIT off, and parallel workers off for the visits and spend condition.
RFM quadrants and churn risk come from lps_core.analytics (the same scores as its RFM view, the
same definition as its churn warning), with the analytics settings of the app or command whose
session it is (lps.analytics.*), unless `analytics=` names others."""
import json
from datetime import date, datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import and_, exists, extract, func, not_, or_, select, text

from lps_core.analytics.common import activity_in, window_start
from lps_core.analytics.models import RfmScore
from lps_core.analytics.scoring import fresh_scoring, whole_programme
from lps_core.analytics.settings import analytics_settings_of
from lps_core.analytics.warnings import at_churn_risk
from lps_core.cards.models import Card, CardType
from lps_core.earning.models import Bill
from lps_core.errors import Unprocessable
from lps_core.marketing.schemas import SegmentDefinition
from lps_core.members.models import Member, Tier
from lps_core.messages.models import MessageConsent
from lps_core.outlets.models import Outlet

PREVIEW_COLUMNS = ("id", "name", "tier", "status", "last_visit")


def check_definition(db, definition: SegmentDefinition) -> None:
    """422 naming the field of an unknown code or a range upside down."""
    for field, model in (("tiers", Tier), ("card_types", CardType), ("enrolment_outlets", Outlet),
                         ("visited_outlets", Outlet)):
        codes = getattr(definition, field)
        if codes:
            known = set(db.scalars(select(model.code).where(model.code.in_(codes))))
            missing = [code for code in codes if code not in known]
            if missing:
                raise Unprocessable(f"unknown {field}: {', '.join(missing)}", {f"definition.{field}": "unknown code"})
    for low, high in (("visits_min", "visits_max"), ("spend_min", "spend_max")):
        lo, hi = getattr(definition, low), getattr(definition, high)
        if lo is not None and hi is not None and lo > hi:
            raise Unprocessable(f"{high} is below {low}", {f"definition.{high}": f"must not be below {low}"})


def members_of(db, definition: SegmentDefinition, now: datetime, tz, *, analytics=None):
    """The statement selecting the ids of the segment's members at `now` (a column `id`)."""
    d = definition
    conditions = [Member.status.in_(d.statuses)]
    if d.tiers:
        conditions.append(Member.tier_id.in_(select(Tier.id).where(Tier.code.in_(d.tiers))))
    if d.card_types:
        conditions.append(exists().where(Card.member_id == Member.id, Card.status == "active",
                                         Card.card_type_id.in_(select(CardType.id).where(CardType.code.in_(d.card_types)))))
    if d.enrolment_outlets:
        conditions.append(Member.enrolled_outlet_id.in_(select(Outlet.id).where(Outlet.code.in_(d.enrolment_outlets))))
    if d.enrolment_channels:
        conditions.append(Member.channel.in_(d.enrolment_channels))
    if d.birthday_months:
        conditions.append(extract("month", Member.birthday).in_(d.birthday_months))
    if d.genders:
        conditions.append(Member.gender.in_(d.genders))
    if d.visited_within_days is not None:
        conditions.append(Member.last_activity_at >= now - timedelta(days=d.visited_within_days))
    if d.absent_days is not None:
        conditions.append(or_(Member.last_activity_at.is_(None),
                              Member.last_activity_at < now - timedelta(days=d.absent_days)))
    today = now.astimezone(tz).date()
    first_month = window_start(today, d.window_months)
    conditions += _behaviour(d, first_month, today)
    window_from = datetime.combine(first_month, datetime.min.time(), tz)
    if d.visited_outlets:
        conditions.append(exists().where(Bill.member_id == Member.id, Bill.occurred_at >= window_from,
                                         Bill.outlet_id.in_(select(Outlet.id).where(Outlet.code.in_(d.visited_outlets)))))
    if d.categories:
        conditions.append(_bought_from(db, d.categories, window_from))
    if d.consent:
        conditions.append(exists().where(MessageConsent.member_id == Member.id, MessageConsent.channel.in_(d.consent),
                                         MessageConsent.granted.is_(True)))
    _plan_for(db, behaviour=any(value is not None for value in (d.visits_min, d.visits_max, d.spend_min, d.spend_max)))
    if d.rfm_quadrants or d.churn_risk is not None:
        analytics = analytics or analytics_settings_of(db)
    if d.rfm_quadrants:
        conditions.append(Member.id.in_(_rfm_members(db, d.rfm_quadrants, today, now, analytics)))
    if d.churn_risk is not None:
        flagged = at_churn_risk(db, now, tz, analytics)
        conditions.append(flagged if d.churn_risk else not_(flagged))
    return select(Member.id.label("id")).where(and_(*conditions))


def _plan_for(db, *, behaviour: bool) -> None:
    """On PostgreSQL, for the rest of the transaction: no JIT, whose compiling took 40-70 ms of each
    count at 1,000,000 members and saved nothing; and with the visits and spend condition, no
    parallel workers. Under a parallel join the planner summed the window per member once in each
    worker (three times over on two cores): that count took 1.01 s with them, 0.88-0.95 s without
    (bench/README.md). Other conditions are faster with the workers."""
    if db.get_bind().dialect.name == "postgresql":
        workers = ", set_config('max_parallel_workers_per_gather', '0', true)" if behaviour else ""
        db.execute(text(f"SELECT set_config('jit', 'off', true){workers}"))


def _behaviour(d, first_month: date, today: date) -> list:
    """Visits and spend in the window, from the monthly counters (a member without a row has 0)."""
    wanted = [d.visits_min, d.visits_max, d.spend_min, d.spend_max]
    if all(value is None for value in wanted):
        return []
    activity = activity_in(first_month, today)
    having = []
    for column, low, high in ((activity.c.visits, d.visits_min, d.visits_max),
                              (activity.c.spend, d.spend_min, d.spend_max)):
        if low is not None:
            having.append(column >= low)
        if high is not None:
            having.append(column <= high)
    matching = select(activity.c.member_id).where(*having)
    zero_ok = all(low is None or low <= 0 for low in (d.visits_min, d.spend_min))
    if not zero_ok:
        return [Member.id.in_(matching)]
    # 0 visits and 0 spend pass too: members with no activity in the window at all
    any_activity = select(activity.c.member_id)
    return [or_(Member.id.in_(matching), Member.id.not_in(any_activity))]


def _bought_from(db, categories, window_from):
    """A bill in the window with an item line of one of the categories. A bill keeps its lines as
    the earn path writes them: objects {"sku", "category", "qty", "amount"}.

    On PostgreSQL that is containment (`[{"category": "wine"}]` is contained in `[{"sku": "S1",
    "category": "wine", ...}]`, and in no list without such a line), which the GIN index on the
    jsonb lines (migrations 0041, 0048) answers; SQLite reads the lines."""
    if db.get_bind().dialect.name == "postgresql":
        line = " OR ".join(f"bills.items @> CAST(:contains_{n} AS jsonb)"
                           for n in range(len(categories)))
        values = {f"contains_{n}": json.dumps([{"category": name}]) for n, name in enumerate(categories)}
    else:
        names = ", ".join(f":category_{n}" for n in range(len(categories)))
        values = {f"category_{n}": name for n, name in enumerate(categories)}
        line = (f"EXISTS (SELECT 1 FROM json_each(bills.items) AS line "
                f"WHERE json_extract(line.value, '$.category') IN ({names}))")
    return exists().where(Bill.member_id == Member.id, Bill.occurred_at >= window_from, Bill.items.is_not(None),
                          text(f"({line})").bindparams(**values))


def _rfm_members(db, quadrants, today, now, analytics):
    """The members of the quadrants in the nightly scoring while it is fresh (as of yesterday or
    today: lps_core.analytics.scoring), else scored live up to now."""
    from lps_core.analytics.rfm import scored

    scoring = fresh_scoring(db, today, analytics)
    if scoring is not None:
        return select(RfmScore.member_id).where(RfmScore.scoring_id == scoring.id, RfmScore.quadrant.in_(quadrants))
    rfm = scored(whole_programme(today, now), SimpleNamespace(channel=None), analytics).subquery("rfm")
    return select(rfm.c.id).where(rfm.c.quadrant.in_(quadrants))


def count(db, definition, now, tz, **options) -> int:
    ids = members_of(db, definition, now, tz, **options).subquery()
    return db.scalar(select(func.count()).select_from(ids))


def preview(db, definition, now, tz, *, limit=50, **options) -> list[dict]:
    """The first `limit` members by id: id, name, tier code, status, last visit."""
    ids = members_of(db, definition, now, tz, **options).subquery()
    rows = db.execute(select(Member.id, Member.name, Tier.code, Member.status, Member.last_activity_at)
                      .join(ids, ids.c.id == Member.id).outerjoin(Tier, Tier.id == Member.tier_id)
                      .order_by(Member.id).limit(limit)).all()
    return [dict(zip(PREVIEW_COLUMNS, row)) for row in rows]


def member_ids(db, definition, now, tz, *, after_id=0, limit=None, **options) -> list[int]:
    """The members' ids in order, a page at a time (a campaign walks the segment with this)."""
    query = members_of(db, definition, now, tz, **options).where(Member.id > after_id).order_by(Member.id)
    return list(db.scalars(query.limit(limit) if limit else query))


