"""RFM: recency, frequency and monetary scores per member, quintiles by NTILE(5) in SQL.

The members scored are those in the programme (active, dormant or suspended) with at least one
visit. Recency ranks their last visit (members.last_activity_at: the latest scores 5); frequency
their visits (bills and stays) and monetary their spend over the trailing lps.analytics.
window_months calendar months up to the period's last day (member_activity). A score of 3 or more
is high. The four quadrants cross recency with frequency:
- keep (重要保持): recent and frequent;
- develop (重要发展): recent, not yet frequent;
- retain (重要挽留): frequent, but not recent;
- win back (重要赢回): neither.
Their value is the members' spend in the window. Each quadrant lists its members, by spend.

For the whole programme as of a day that `lps jobs rfm` scored, the view reads that scoring
(lps_core.analytics.scoring) and says so in a note; otherwise it scores live."""
from datetime import timezone

from sqlalchemy import DateTime, Integer, String, case, func, literal, select, union_all

from lps_core.analytics.common import CURRENT, activity_in, null_of, page_info, paged, window_start
from lps_core.analytics.members import share
from lps_core.analytics.models import RfmScore
from lps_core.analytics.schemas import QUADRANTS
from lps_core.analytics.scoring import latest_scoring
from lps_core.db import reports_session_of
from lps_core.exports import DATE, INTEGER, MONEY, RATIO, Column, Table
from lps_core.members.models import Member
from lps_core.reports.report import Chart, Figure, Report
from lps_core.reports.texts import dgettext

HIGH = 3


def quadrant_labels():
    return {"keep": dgettext("lps_analytics", "Important to keep"),
            "develop": dgettext("lps_analytics", "Important to develop"),
            "retain": dgettext("lps_analytics", "Important to retain"),
            "win_back": dgettext("lps_analytics", "Important to win back")}


def scored(scope, filters, settings):
    """Every scored member: id, name, last visit, visits, spend, r, f, m and quadrant."""
    activity = activity_in(window_start(scope.last_day, settings.window_months), scope.last_day)
    visits = func.coalesce(activity.c.visits, 0)
    spend = func.coalesce(activity.c.spend, 0)
    query = (select(Member.id.label("id"), Member.name.label("name"), Member.last_activity_at.label("last_visit"),
                    visits.label("visits"), spend.label("spend"),
                    func.ntile(5).over(order_by=(Member.last_activity_at, Member.id)).label("r"),
                    func.ntile(5).over(order_by=(visits, Member.id)).label("f"),
                    func.ntile(5).over(order_by=(spend, Member.id)).label("m"))
             .outerjoin(activity, activity.c.member_id == Member.id)
             .where(Member.status.in_(CURRENT), Member.last_activity_at.is_not(None),
                    Member.last_activity_at < scope.ends))
    outlets = scope.outlet_filter(Member.enrolled_outlet_id)
    if outlets is not None:
        query = query.where(outlets)
    if filters.channel:
        query = query.where(Member.channel == filters.channel)
    scores = query.subquery("scores")
    quadrant = case(((scores.c.r >= HIGH) & (scores.c.f >= HIGH), "keep"), (scores.c.r >= HIGH, "develop"),
                    (scores.c.f >= HIGH, "retain"), else_="win_back")
    return select(scores, quadrant.label("quadrant"))


def rfm(db, scope, filters, settings, export=False) -> Report:
    read = reports_session_of(db)
    labels = quadrant_labels()
    scoring = _stored_for(read, scope, filters, settings)
    if scoring is not None:
        cells, listed = _stored(read, scoring, filters, export)
        notes = [dgettext("lps_analytics", "Scores of the nightly scoring as of ${day}, scored at ${time} UTC.",
                          mapping={"day": scoring.as_of.isoformat(),
                                   "time": scoring.scored_at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M")})]
    else:
        cells, listed = _live(read, scope, filters, settings, export)
        notes = []
    return _report(scope, filters, labels, cells, listed, export, notes)


def _stored_for(read, scope, filters, settings):
    """The latest nightly scoring, if it is this view's: every outlet, every channel, as of the
    period's last day, over the configured window."""
    if scope.outlet_ids is not None or filters.channel:
        return None
    scoring = latest_scoring(read)
    if scoring is None or scoring.as_of != scope.last_day or scoring.window_months != settings.window_months:
        return None
    return scoring


def _stored(read, scoring, filters, export):
    cells = [tuple(cell) for cell in scoring.cells]
    if not filters.quadrant:
        return cells, []
    page = paged(select(RfmScore.member_id.label("id"), Member.name, RfmScore.last_visit, RfmScore.visits,
                        RfmScore.spend, RfmScore.r, RfmScore.f, RfmScore.m)
                 .join(Member, Member.id == RfmScore.member_id)
                 .where(RfmScore.scoring_id == scoring.id, RfmScore.quadrant == filters.quadrant)
                 .order_by(RfmScore.place), filters.page, filters.per_page, export)
    return cells, read.execute(page).all()


def _live(read, scope, filters, settings, export):
    # One pass: members and spend per (quadrant, r, f, m), at most 125 rows, from which the
    # quadrants and the scores' distributions are summed here; with a quadrant's member list in the
    # same statement, so that every member is scored once (most of the time at 1,000,000 members).
    rfm_rows = scored(scope, filters, settings).cte("rfm")
    cells = (select(literal(1).label("part"), rfm_rows.c.quadrant, rfm_rows.c.r, rfm_rows.c.f, rfm_rows.c.m,
                    func.count().label("members"), func.coalesce(func.sum(rfm_rows.c.spend), 0).label("spend"),
                    null_of(Integer, "id"), null_of(String, "name"), null_of(DateTime(timezone=True), "last_visit"),
                    null_of(Integer, "visits"))
             .group_by(rfm_rows.c.quadrant, rfm_rows.c.r, rfm_rows.c.f, rfm_rows.c.m))
    listed = []
    if filters.quadrant:
        page = paged(select(rfm_rows).where(rfm_rows.c.quadrant == filters.quadrant)
                     .order_by(rfm_rows.c.spend.desc(), rfm_rows.c.id), filters.page, filters.per_page,
                     export).subquery("page")
        both = union_all(select(literal(0).label("part"), page.c.quadrant, page.c.r, page.c.f, page.c.m,
                                null_of(Integer, "members"), page.c.spend, page.c.id, page.c.name, page.c.last_visit,
                                page.c.visits), cells).subquery("both")
        answered = read.execute(select(both).order_by(both.c.part, both.c.spend.desc(), both.c.id)).all()
        listed = [row for row in answered if row.part == 0]
        cells = [(row.quadrant, row.r, row.f, row.m, row.members, row.spend) for row in answered if row.part == 1]
    else:
        cells = read.execute(cells).all()
        cells = [(row.quadrant, row.r, row.f, row.m, row.members, row.spend) for row in cells]
    return cells, listed


def _report(scope, filters, labels, cells, listed, export, notes) -> Report:
    counts, per_score = {}, {name: {} for name in ("r", "f", "m")}
    for quadrant, r, f, m, members, spend in cells:
        n, v = counts.get(quadrant, (0, 0))
        counts[quadrant] = (n + int(members), v + int(spend))
        for name, score in (("r", r), ("f", f), ("m", m)):
            per_score[name][int(score)] = per_score[name].get(int(score), 0) + int(members)
    total = sum(n for n, _ in counts.values())
    value = sum(v for _, v in counts.values())
    quadrant_rows = [{"quadrant": q, "label": labels[q], "members": counts.get(q, (0, 0))[0],
                      "share": share(counts.get(q, (0, 0))[0], total), "value": counts.get(q, (0, 0))[1],
                      "value_share": share(counts.get(q, (0, 0))[1], value)} for q in QUADRANTS]
    quadrant_table = Table(dgettext("lps_analytics", "Quadrants"),
                           [Column("quadrant", dgettext("lps_analytics", "Quadrant")),
                            Column("label", dgettext("lps_analytics", "Name")),
                            Column("members", dgettext("lps_analytics", "Members"), INTEGER),
                            Column("share", dgettext("lps_analytics", "Share"), RATIO),
                            Column("value", dgettext("lps_analytics", "Spend in the window"), MONEY),
                            Column("value_share", dgettext("lps_analytics", "Share of spend"), RATIO)],
                           quadrant_rows, {"members": total, "value": value}, dgettext("lps_analytics", "Total"))
    score_rows = [{"score_of": name.upper(), **{f"score_{s}": per_score[name].get(s, 0) for s in range(1, 6)}}
                  for name in ("r", "f", "m")]
    score_table = Table(dgettext("lps_analytics", "Members per score"),
                        [Column("score_of", dgettext("lps_analytics", "Score"))]
                        + [Column(f"score_{s}", str(s), INTEGER) for s in range(1, 6)], score_rows)
    tables = [quadrant_table, score_table]
    page = None
    if filters.quadrant:
        tables.append(Table(labels[filters.quadrant],
                            [Column("member_id", dgettext("lps_analytics", "Member"), INTEGER),
                             Column("name", dgettext("lps_analytics", "Name")),
                             Column("last_visit", dgettext("lps_analytics", "Last visit"), DATE),
                             Column("visits", dgettext("lps_analytics", "Visits in the window"), INTEGER),
                             Column("spend", dgettext("lps_analytics", "Spend in the window"), MONEY),
                             Column("r", "R", INTEGER), Column("f", "F", INTEGER), Column("m", "M", INTEGER)],
                            [{"member_id": row.id, "name": row.name,
                              "last_visit": row.last_visit.astimezone(scope.tz).date() if row.last_visit else None,
                              "visits": int(row.visits), "spend": int(row.spend), "r": int(row.r), "f": int(row.f),
                              "m": int(row.m)} for row in listed]))
        page = page_info(filters, counts.get(filters.quadrant, (0, 0))[0], export)
    chart = Chart([labels[q] for q in QUADRANTS],
                  [(dgettext("lps_analytics", "Members"), [row["members"] for row in quadrant_rows], "bar", INTEGER),
                   (dgettext("lps_analytics", "Spend in the window"), [row["value"] for row in quadrant_rows], "line",
                    MONEY)], dgettext("lps_analytics", "RFM quadrants"))
    figures = [Figure("members", dgettext("lps_analytics", "Members scored"), INTEGER, total),
               Figure("value", dgettext("lps_analytics", "Spend in the window"), MONEY, value)]
    figures += [Figure(f"members_{row['quadrant']}", row["label"], INTEGER, row["members"]) for row in quadrant_rows]
    return Report("rfm", dgettext("lps_analytics", "RFM"), scope, figures, tables, chart, page=page, notes=notes)
