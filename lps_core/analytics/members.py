"""Who the members are: the card-type mix and its trend, new members per day, week or month by
channel and outlet, region, gender and age, the referral ranking and the lifecycle. Set-based
SQL: each view is a few GROUP BYs, whatever the number of members."""
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Date, DateTime, String, and_, case, false, func, literal, not_, or_, select, true, union_all
from sqlalchemy.dialects import postgresql

from lps_core.analytics.common import COUNTED, CURRENT, page_info, paged, window_start
from lps_core.analytics.models import MemberRegion
from lps_core.cards.models import Card, CardType
from lps_core.db import reports_session_of
from lps_core.exports import INTEGER, MONEY, RATIO, Column, Table
from lps_core.members.models import ENROLMENT_CHANNELS, GENDERS, Member, MemberActivity
from lps_core.outlets.models import Outlet
from lps_core.reports.report import Chart, Figure, Report
from lps_core.reports.texts import dgettext

AGE_BANDS = ((None, 17, "<18"), (18, 24, "18-24"), (25, 34, "25-34"), (35, 44, "35-44"), (45, 54, "45-54"),
             (55, 64, "55-64"), (65, None, "65+"))
UNKNOWN = "-"


def share(part: int, whole: int):
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), ROUND_HALF_UP) if whole else Decimal("0.0000")


def _bucketed(read, scope, column):
    """(label, add): the label of the bucket of `column`'s moment, and a function that adds what it
    needs to a query (and keeps the query to the period). On PostgreSQL the label is read from the
    local time (the date, the month, or the week's Monday), so a count per bucket is a hash
    aggregate, as the reports group (lps_core.reports.scope.bucket_of); elsewhere the buckets' table
    is joined on starts <= t < ends, a nested loop of rows × buckets (at 1,000,000 members and 53
    weeks, 10 s on PostgreSQL)."""
    if read.get_bind().dialect.name == "postgresql":
        local = func.timezone(str(scope.tz), column)
        pattern = {"day": "YYYY-MM-DD", "week": "YYYY-MM-DD", "month": "YYYY-MM"}[scope.grain]
        label = func.to_char(func.date_trunc("week", local) if scope.grain == "week" else local, pattern)
        return label, lambda query: query.where(column >= scope.starts, column < scope.ends)
    buckets = scope.buckets_table()
    return buckets.c.label, lambda query: query.join(buckets, and_(column >= buckets.c.starts,
                                                                   column < buckets.c.ends))


def _member_conditions(scope, filters) -> list:
    """The filters' conditions on Member: the outlets of enrolment and the channel."""
    conditions = []
    outlets = scope.outlet_filter(Member.enrolled_outlet_id)
    if outlets is not None:
        conditions.append(outlets)
    if getattr(filters, "channel", None):
        conditions.append(Member.channel == filters.channel)
    return conditions


def _member_outlets(query, scope, filters):
    conditions = _member_conditions(scope, filters)
    return query.where(*conditions) if conditions else query


def card_mix(db, scope, filters, settings, export=False) -> Report:
    """Active cards per card type now, and the cards issued per type in each day, week or month."""
    read = reports_session_of(db)
    outlets = scope.outlet_filter(Card.issued_outlet_id)
    now_query = (select(CardType.code, CardType.name, func.count(Card.id)).join(Card, Card.card_type_id == CardType.id)
                 .where(Card.status == "active").group_by(CardType.code, CardType.name))
    label, add = _bucketed(read, scope, Card.issued_at)
    trend_query = (add(select(label.label("label"), CardType.code, func.count(Card.id)).select_from(Card)
                       .join(CardType, CardType.id == Card.card_type_id))
                   .group_by(label, CardType.code))
    if outlets is not None:
        now_query, trend_query = now_query.where(outlets), trend_query.where(outlets)
    held = {code: (name, int(count)) for code, name, count in read.execute(now_query)}
    trend = {(label, code): int(count) for label, code, count in read.execute(trend_query)}
    names = dict(read.execute(select(CardType.code, CardType.name)).all())
    codes = sorted(set(held) | {code for _, code in trend})
    total_held = sum(count for _, count in held.values())
    issued = {code: sum(count for (_, c), count in trend.items() if c == code) for code in codes}
    rows = [{"card_type": code, "name": names.get(code, code), "active": held.get(code, ("", 0))[1],
             "share": share(held.get(code, ("", 0))[1], total_held), "issued": issued[code]} for code in codes]
    by_type = Table(dgettext("lps_analytics", "By card type"),
                    [Column("card_type", dgettext("lps_analytics", "Card type")),
                     Column("name", dgettext("lps_analytics", "Name")),
                     Column("active", dgettext("lps_analytics", "Active cards"), INTEGER),
                     Column("share", dgettext("lps_analytics", "Share"), RATIO),
                     Column("issued", dgettext("lps_analytics", "Issued in the period"), INTEGER)],
                    rows, {"active": total_held, "issued": sum(issued.values())}, dgettext("lps_analytics", "Total"))
    labels = [bucket.label for bucket in scope.buckets]
    trend_rows = [{"period": label, **{f"type_{code}": trend.get((label, code), 0) for code in codes}}
                  for label in labels]
    trend_table = Table(dgettext("lps_analytics", "Cards issued"),
                        [Column("period", dgettext("lps_analytics", "Period"))]
                        + [Column(f"type_{code}", code, INTEGER) for code in codes], trend_rows)
    chart = Chart(labels, [(code, [trend.get((label, code), 0) for label in labels], "bar", INTEGER) for code in codes],
                  dgettext("lps_analytics", "Cards issued per card type"))
    figures = [Figure("active_cards", dgettext("lps_analytics", "Active cards"), INTEGER, total_held),
               Figure("issued", dgettext("lps_analytics", "Issued in the period"), INTEGER, sum(issued.values()))]
    return Report("cards", dgettext("lps_analytics", "Card-type mix"), scope, figures, [by_type, trend_table], chart)


def new_members(db, scope, filters, settings, export=False) -> Report:
    """Members enrolled (not refused, not still pending) per day, week or month, by channel and outlet."""
    read = reports_session_of(db)
    label, add = _bucketed(read, scope, Member.created_at)
    query = _member_outlets(
        add(select(label.label("label"), Member.channel, Member.enrolled_outlet_id, func.count(Member.id))
            .select_from(Member)).where(Member.status.in_(COUNTED))
        .group_by(label, Member.channel, Member.enrolled_outlet_id), scope, filters)
    counts = [(label, channel, outlet_id, int(count)) for label, channel, outlet_id, count in read.execute(query)]
    outlets = {row.id: row for row in read.execute(select(Outlet.id, Outlet.code, Outlet.name))}
    labels = [bucket.label for bucket in scope.buckets]
    channels = [channel for channel in ENROLMENT_CHANNELS if not filters.channel or channel == filters.channel]
    per_bucket = {(label, channel): 0 for label in labels for channel in channels}
    per_outlet = {}
    for label, channel, outlet_id, count in counts:
        per_bucket[(label, channel)] = per_bucket.get((label, channel), 0) + count
        row = per_outlet.setdefault(outlet_id, dict.fromkeys(channels, 0))
        row[channel] = row.get(channel, 0) + count
    channel_cols = [Column(f"channel_{channel}", _channel_label(channel), INTEGER) for channel in channels]
    trend_rows = [{"period": label, **{f"channel_{c}": per_bucket[(label, c)] for c in channels},
                   "total": sum(per_bucket[(label, c)] for c in channels)} for label in labels]
    total = sum(row["total"] for row in trend_rows)
    trend_table = Table(dgettext("lps_analytics", "New members per period"),
                        [Column("period", dgettext("lps_analytics", "Period")), *channel_cols,
                         Column("total", dgettext("lps_analytics", "Total"), INTEGER)], trend_rows,
                        {**{f"channel_{c}": sum(r[f"channel_{c}"] for r in trend_rows) for c in channels},
                         "total": total}, dgettext("lps_analytics", "Total"))
    outlet_rows = sorted(({"outlet": outlets[oid].code if oid in outlets else UNKNOWN,
                           "outlet_name": outlets[oid].name if oid in outlets else dgettext("lps_analytics", "no outlet"),
                           **{f"channel_{c}": row.get(c, 0) for c in channels}, "total": sum(row.values())}
                          for oid, row in per_outlet.items()), key=lambda row: row["outlet"])
    outlet_table = Table(dgettext("lps_analytics", "By outlet"),
                         [Column("outlet", dgettext("lps_analytics", "Outlet")),
                          Column("outlet_name", dgettext("lps_analytics", "Outlet name")), *channel_cols,
                          Column("total", dgettext("lps_analytics", "Total"), INTEGER)], outlet_rows)
    chart = Chart(labels, [(_channel_label(c), [per_bucket[(label, c)] for label in labels], "bar", INTEGER)
                           for c in channels], dgettext("lps_analytics", "New members by channel"))
    figures = [Figure("new_members", dgettext("lps_analytics", "New members"), INTEGER, total)]
    figures += [Figure(f"channel_{c}", _channel_label(c), INTEGER, sum(r[f"channel_{c}"] for r in trend_rows))
                for c in channels]
    return Report("new-members", dgettext("lps_analytics", "New members"), scope, figures, [trend_table, outlet_table],
                  chart)


def _channel_label(channel):
    return {"desk": dgettext("lps_analytics", "At the desk"), "web": dgettext("lps_analytics", "Online")}.get(
        channel, channel)


def age_band(age: int | None) -> str:
    if age is None:
        return UNKNOWN
    for least, most, label in AGE_BANDS:
        if (least is None or age >= least) and (most is None or age <= most):
            return label
    return UNKNOWN


def demographics(db, scope, filters, settings, export=False) -> Report:
    """The members at the period's end (enrolled before it, not closed) by region, gender and age.
    Age is the age reached in the period's last year (that year less the year of birth)."""
    read = reports_session_of(db)
    base = _member_outlets(select(Member.id).where(Member.status.in_(CURRENT), Member.created_at < scope.ends),
                           scope, filters).subquery("counted")
    year = func.extract("year", Member.birthday)
    by_age_gender = read.execute(select(year, Member.gender, func.count()).join(base, base.c.id == Member.id)
                                 .group_by(year, Member.gender)).all()
    total = sum(int(count) for _, _, count in by_age_gender)
    bands = [label for _, _, label in AGE_BANDS] + [UNKNOWN]
    grid = {(band, gender): 0 for band in bands for gender in GENDERS}
    for birth_year, gender, count in by_age_gender:
        band = age_band(scope.last_day.year - int(birth_year) if birth_year is not None else None)
        grid[(band, gender)] = grid.get((band, gender), 0) + int(count)
    gender_cols = [Column(f"gender_{g}", _gender_label(g), INTEGER) for g in GENDERS]
    age_rows = [{"age": band, **{f"gender_{g}": grid[(band, g)] for g in GENDERS},
                 "total": sum(grid[(band, g)] for g in GENDERS)} for band in bands]
    for row in age_rows:
        row["share"] = share(row["total"], total)
    age_table = Table(dgettext("lps_analytics", "By age and gender"),
                      [Column("age", dgettext("lps_analytics", "Age")), *gender_cols,
                       Column("total", dgettext("lps_analytics", "Members"), INTEGER),
                       Column("share", dgettext("lps_analytics", "Share"), RATIO)], age_rows,
                      {**{f"gender_{g}": sum(r[f"gender_{g}"] for r in age_rows) for g in GENDERS}, "total": total},
                      dgettext("lps_analytics", "Total"))
    province = func.coalesce(MemberRegion.province, UNKNOWN)
    city = func.coalesce(MemberRegion.city, UNKNOWN)
    regions = read.execute(select(province, city, func.count()).select_from(base)
                           .outerjoin(MemberRegion, MemberRegion.member_id == base.c.id)
                           .group_by(province, city)).all()
    provinces = {}
    for name, _, count in regions:
        provinces[name] = provinces.get(name, 0) + int(count)
    province_rows = [{"province": name, "members": count, "share": share(count, total)}
                     for name, count in sorted(provinces.items(), key=lambda item: (-item[1], item[0]))]
    city_rows = [{"province": p, "city": c, "members": int(n), "share": share(int(n), total)}
                 for p, c, n in sorted(regions, key=lambda row: (-int(row[2]), row[0], row[1]))]
    province_table = Table(dgettext("lps_analytics", "By province"),
                           [Column("province", dgettext("lps_analytics", "Province")),
                            Column("members", dgettext("lps_analytics", "Members"), INTEGER),
                            Column("share", dgettext("lps_analytics", "Share"), RATIO)], province_rows,
                           {"members": total}, dgettext("lps_analytics", "Total"))
    city_table = Table(dgettext("lps_analytics", "By city"),
                       [Column("province", dgettext("lps_analytics", "Province")),
                        Column("city", dgettext("lps_analytics", "City")),
                        Column("members", dgettext("lps_analytics", "Members"), INTEGER),
                        Column("share", dgettext("lps_analytics", "Share"), RATIO)], city_rows)
    chart = Chart(bands, [(_gender_label(g), [grid[(band, g)] for band in bands], "bar", INTEGER) for g in GENDERS],
                  dgettext("lps_analytics", "Members by age and gender"))
    figures = [Figure("members", dgettext("lps_analytics", "Members"), INTEGER, total),
               Figure("provinces", dgettext("lps_analytics", "Provinces"), INTEGER,
                      len([p for p in provinces if p != UNKNOWN]))]
    figures += [Figure(f"gender_{g}", _gender_label(g), INTEGER, sum(grid[(b, g)] for b in bands)) for g in GENDERS]
    notes = [dgettext("lps_analytics", "The region is the area of the member's mobile number; age is the age reached "
                                       "in the period's last year.")]
    return Report("demographics", dgettext("lps_analytics", "Region, gender and age"), scope, figures,
                  [age_table, province_table, city_table], chart, notes=notes)


def _gender_label(gender):
    return {"female": dgettext("lps_analytics", "Female"), "male": dgettext("lps_analytics", "Male"),
            "other": dgettext("lps_analytics", "Other"), "unspecified": dgettext("lps_analytics", "Unspecified")}[gender]


def referrals(db, scope, filters, settings, export=False) -> Report:
    """Referrers ranked by the referrals approved in the period, and the spend of those referred
    members over the period's months."""
    read = reports_session_of(db)
    referred = Member.__table__.alias("referred")
    first_month = date(scope.first_day.year, scope.first_day.month, 1)
    approved = and_(referred.c.approved_at >= scope.starts, referred.c.approved_at < scope.ends,
                    referred.c.status.in_(COUNTED))
    # Only the referred members' activity: the period's referrals, not every member's months.
    referred_ids = select(referred.c.id).where(referred.c.referred_by_id.is_not(None), approved)
    spend = (select(MemberActivity.member_id, func.sum(MemberActivity.spend_cents).label("spend"))
             .where(MemberActivity.month >= first_month, MemberActivity.month <= scope.last_day,
                    MemberActivity.member_id.in_(referred_ids))
             .group_by(MemberActivity.member_id).subquery("spend"))
    per_referrer = (select(referred.c.referred_by_id.label("referrer_id"), func.count().label("referrals"),
                           func.coalesce(func.sum(spend.c.spend), 0).label("spend"))
                    .select_from(referred).outerjoin(spend, spend.c.member_id == referred.c.id)
                    .where(referred.c.referred_by_id.is_not(None), approved).group_by(referred.c.referred_by_id))
    outlets = scope.outlet_filter(referred.c.enrolled_outlet_id)
    if outlets is not None:
        per_referrer = per_referrer.where(outlets)
    per_referrer = per_referrer.subquery("per_referrer")
    totals = read.execute(select(func.count(), func.coalesce(func.sum(per_referrer.c.referrals), 0),
                                 func.coalesce(func.sum(per_referrer.c.spend), 0))).one()
    ranked = read.execute(paged(select(per_referrer.c.referrer_id, Member.name, per_referrer.c.referrals,
                                       per_referrer.c.spend).join(Member, Member.id == per_referrer.c.referrer_id)
                                .order_by(per_referrer.c.referrals.desc(), per_referrer.c.spend.desc(),
                                          per_referrer.c.referrer_id), filters.page, filters.per_page, export)).all()
    offset = 0 if export else (filters.page - 1) * filters.per_page
    rows = [{"rank": offset + index + 1, "member_id": row.referrer_id, "name": row.name,
             "referrals": int(row.referrals), "spend": int(row.spend)} for index, row in enumerate(ranked)]
    table = Table(dgettext("lps_analytics", "Referral ranking"),
                  [Column("rank", dgettext("lps_analytics", "Rank"), INTEGER),
                   Column("member_id", dgettext("lps_analytics", "Member"), INTEGER),
                   Column("name", dgettext("lps_analytics", "Name")),
                   Column("referrals", dgettext("lps_analytics", "Approved referrals"), INTEGER),
                   Column("spend", dgettext("lps_analytics", "Spend of the referred"), MONEY)], rows)
    top = rows[:10]
    chart = Chart([row["name"] for row in top],
                  [(dgettext("lps_analytics", "Approved referrals"), [row["referrals"] for row in top], "bar", INTEGER),
                   (dgettext("lps_analytics", "Spend of the referred"), [row["spend"] for row in top], "line", MONEY)],
                  dgettext("lps_analytics", "Top referrers"))
    figures = [Figure("referrers", dgettext("lps_analytics", "Referrers"), INTEGER, int(totals[0])),
               Figure("referrals", dgettext("lps_analytics", "Approved referrals"), INTEGER, int(totals[1])),
               Figure("spend", dgettext("lps_analytics", "Spend of the referred"), MONEY, int(totals[2]))]
    return Report("referrals", dgettext("lps_analytics", "Referral ranking"), scope, figures, [table], chart,
                  page=page_info(filters, int(totals[0]), export))


def lifecycle(db, scope, filters, settings, export=False) -> Report:
    """At the end of each day, week or month: members new in it, active (a visit in the last
    lps.analytics.active_months months), dormant (none) and closed (status closed, as of their last
    change)."""
    read = reports_session_of(db)
    counted = Member.status.in_(COUNTED)
    closed_at = Member.updated_at
    label, add = _bucketed(read, scope, Member.created_at)
    new = dict(read.execute(_member_outlets(add(select(label.label("label"), func.count()).select_from(Member))
                                            .where(counted), scope, filters)
                            .group_by(label)).all())
    before = read.scalar(_member_outlets(select(func.count()).select_from(Member)
                                         .where(counted, Member.created_at < scope.starts), scope, filters))
    closed_before = read.scalar(_member_outlets(select(func.count()).select_from(Member).where(
        Member.status == "closed", closed_at < scope.starts), scope, filters))
    closed_label, add_closed = _bucketed(read, scope, closed_at)
    closed_in = dict(read.execute(_member_outlets(
        add_closed(select(closed_label.label("label"), func.count()).select_from(Member))
        .where(Member.status == "closed"), scope, filters).group_by(closed_label)).all())
    active = _active_per_bucket(read, scope, filters, settings.active_months)
    rows, existing, closed = [], int(before), int(closed_before)
    for bucket in scope.buckets:
        fresh = int(new.get(bucket.label, 0))
        closed += int(closed_in.get(bucket.label, 0))
        still_open = existing - closed  # enrolled before this bucket, not closed by its end
        in_use = min(int(active.get(bucket.label, 0)), max(still_open, 0))
        rows.append({"period": bucket.label, "new": fresh, "active": in_use, "dormant": max(still_open - in_use, 0),
                     "closed": closed, "total": existing + fresh})
        existing += fresh
    stages = (("new", dgettext("lps_analytics", "New")), ("active", dgettext("lps_analytics", "Active")),
              ("dormant", dgettext("lps_analytics", "Dormant")), ("closed", dgettext("lps_analytics", "Closed")))
    table = Table(dgettext("lps_analytics", "Members by stage"),
                  [Column("period", dgettext("lps_analytics", "Period")),
                   *[Column(key, label, INTEGER) for key, label in stages],
                   Column("total", dgettext("lps_analytics", "Enrolled by the end"), INTEGER)], rows)
    labels = [row["period"] for row in rows]
    chart = Chart(labels, [(label, [row[key] for row in rows], "bar", INTEGER) for key, label in stages],
                  dgettext("lps_analytics", "Members by stage"))
    last = rows[-1] if rows else dict.fromkeys(("new", "active", "dormant", "closed", "total"), 0)
    figures = [Figure(key, label, INTEGER, last[key]) for key, label in stages]
    figures.append(Figure("total", dgettext("lps_analytics", "Enrolled by the end"), INTEGER, last["total"]))
    notes = [dgettext("lps_analytics", "The totals are those of the last period.")]
    return Report("lifecycle", dgettext("lps_analytics", "Lifecycle"), scope, figures, [table], chart, notes=notes)


def _active_per_bucket(read, scope, filters, months) -> dict:
    """Per bucket: the members enrolled before it, not closed by its end, with a visit in the
    `months` calendar months up to its end."""
    if not scope.buckets:
        return {}
    parts, first_months, last_days = [], [], []
    for bucket in scope.buckets:
        last_day = (bucket.ends - timedelta(microseconds=1)).astimezone(scope.tz).date()
        first_months.append(window_start(last_day, months))
        last_days.append(last_day)
        parts.append(select(literal(bucket.label, String(10)).label("label"),
                            literal(first_months[-1], Date).label("first_month"),
                            literal(last_day, Date).label("last_day"),
                            literal(bucket.starts, DateTime(timezone=True)).label("starts"),
                            literal(bucket.ends, DateTime(timezone=True)).label("ends")))
    windows = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery("windows")
    # Each member's months with activity, each with the member's next such month: a member is
    # active at a bucket's end when their latest month up to its last day falls in its window, and
    # that latest month is the one row whose next month comes after the last day (or is none). So
    # each member is met at most once per bucket and the count needs no DISTINCT (a sort of every
    # (bucket, member) pair: at 1,000,000 members most of this view's time).
    def months_of(*members):
        return (select(MemberActivity.member_id.label("member_id"), MemberActivity.month.label("month"),
                       func.lead(MemberActivity.month).over(partition_by=MemberActivity.member_id,
                                                            order_by=MemberActivity.month).label("next_month"))
                .where(MemberActivity.month >= min(first_months), MemberActivity.month <= max(last_days), *members)
                .subquery("months"))

    # Most members count at every bucket their months reach: enrolled before the first bucket, in
    # the programme, not closed, within the filters. Only the others ("doubtful": enrolled within
    # the period, closed, or outside the filters; few in a programme-wide view) are tested per bucket.
    wanted = _member_conditions(scope, filters)
    in_filters = func.coalesce(and_(*wanted), false()) if wanted else true()
    doubtful = (select(Member.id, Member.status, Member.created_at, Member.updated_at, in_filters.label("in_filters"))
                .where(or_(Member.created_at >= scope.buckets[0].starts, Member.status == "closed",
                           Member.status.not_in(COUNTED), not_(in_filters))).subquery("doubtful"))
    counts = and_(doubtful.c.in_filters, doubtful.c.status.in_(COUNTED), doubtful.c.created_at < windows.c.starts,
                  or_(doubtful.c.status != "closed", doubtful.c.updated_at >= windows.c.ends))

    def pairs(months):
        return (select(windows.c.label, func.count()).select_from(months)
                .join(windows, and_(months.c.month >= windows.c.first_month, months.c.month <= windows.c.last_day,
                                    or_(months.c.next_month.is_(None), months.c.next_month > windows.c.last_day)))
                .outerjoin(doubtful, doubtful.c.id == months.c.member_id).group_by(windows.c.label))

    if read.get_bind().dialect.name != "postgresql":
        query = pairs(months_of()).where(or_(doubtful.c.id.is_(None), counts))
        return {label: int(count) for label, count in read.execute(query)}
    # The doubtful members' months are picked before their next months are found (a member's own
    # months are all the window function needs), so that this statement reads only theirs.
    doubtful_months = months_of(MemberActivity.member_id.in_(select(doubtful.c.id)))
    active = {label: int(count) for label, count in read.execute(pairs(doubtful_months).where(counts))}
    for label, count in _sure_members_active(read, scope, months_of(), doubtful, first_months, last_days):
        active[label] = active.get(label, 0) + count
    return active


def _sure_members_active(read, scope, months, doubtful, first_months, last_days):
    """PostgreSQL, the members who are not `doubtful`: (bucket label, active count) pairs. A month
    counts at the consecutive buckets from the first whose last day it reaches (lo) to the last whose
    window it is in and before the member's next month (hi), each found by width_bucket's binary
    search over the buckets' bounds, so the month is counted once per (lo, hi) instead of once per
    bucket (7.5M pairs at 1,000,000 members)."""
    bounds, n = postgresql.ARRAY(Date), len(last_days)
    lo = func.width_bucket(months.c.month - 1, literal(last_days, bounds)) + 1
    before_next = case((months.c.next_month.is_(None), n),
                       else_=func.width_bucket(months.c.next_month - 1, literal(last_days, bounds)))
    hi = func.least(before_next, func.width_bucket(months.c.month, literal(first_months, bounds)))
    spans = (select(lo.label("lo"), hi.label("hi"), func.count()).select_from(months)
             .outerjoin(doubtful, doubtful.c.id == months.c.member_id)
             .where(doubtful.c.id.is_(None)).group_by(lo, hi))
    for first, last, count in read.execute(spans):
        for index in range(first, min(last, n) + 1):
            yield scope.buckets[index - 1].label, int(count)
