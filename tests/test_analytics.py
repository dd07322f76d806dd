"""Member analytics against a known set of members: every figure of every view is worked out by
hand below from the set's definition and checked through the API (JSON, CSV, XLSX); the RFM
quadrants and their member lists; the churn and credit warnings; member_regions kept current
when a phone number is written; bad filters 400 (or 422) naming the field."""
import csv
import io
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, insert, select, update

from lps_core.analytics.catalogue import run_view
from lps_core.analytics.models import MemberRegion, RfmScore, RfmScoring
from lps_core.analytics.schemas import QUADRANTS, AnalyticsFilters
from lps_core.analytics.scoring import score
from lps_core.analytics.settings import AnalyticsSettings, ConfigurationError
from lps_core.cards.funds import card_account
from lps_core.cards.models import Card, CardType
from lps_core.ledger import services as ledger
from lps_core.ledger.models import CREDIT
from lps_core.members.activity import month_of
from lps_core.members.models import Member, MemberActivity
from lps_core.outlets.models import Outlet
from lps_core.reports.settings import ReportSettings
from lps_core.testing import run_lps, write_ini
from lps_core.timeutil import utcnow

UTC = ZoneInfo("UTC")
JIANGSU, BEIJING = "+8613912345678", "+8613800000042"


@pytest.fixture
def world(seed):
    """Members M1..M10 (active), M11 (closed), M12 (pending). Mi: channel desk when i is odd,
    else web; outlet REST for i <= 6, else SPA; female when i is odd; born 20 + 5i years before
    this year; a Jiangsu (Changzhou) phone for i <= 3, a Beijing one for i = 4, 5; enrolled
    30i days ago; last visit 10i days ago, with i visits and i × 10.00 spend this month (M10: none).
    M2 and M3 were referred by M1, M4 by M2. Each has an active standard card; M1 and M2 a credit
    card too (limit 1000.00, warning at 80%): M1 owes 850.00 charged today, M2 100.00 charged 60 days ago."""
    db = seed.db
    now = utcnow()
    outlets = dict(db.execute(select(Outlet.code, Outlet.id)).all())
    db.execute(insert(CardType).values(code="credit", name="Credit", prefix="8802", credit_limit_cents=100000,
                                       credit_warning_ratio=Decimal("0.8")))
    types = dict(db.execute(select(CardType.code, CardType.id)).all())
    ids = {}
    for i in range(1, 13):
        created = now - timedelta(days=30 * i) if i <= 10 else now - timedelta(days=200 if i == 11 else 1)
        member = Member(name=f"M{i}", channel="desk" if i % 2 else "web",
                        status={11: "closed", 12: "pending"}.get(i, "active"),
                        gender="female" if i % 2 else "male", birthday=date(now.year - (20 + 5 * i), 6, 1),
                        phone=JIANGSU if i <= 3 else BEIJING if i <= 5 else None,
                        enrolled_outlet_id=outlets["REST" if i <= 6 or i == 11 else "SPA"], created_at=created,
                        approved_at=created if i != 12 else None,
                        last_activity_at=now - timedelta(days=10 * i) if i <= 10 else None,
                        referred_by_id={2: ids.get(1), 3: ids.get(1), 4: ids.get(2)}.get(i))
        db.add(member)
        db.flush()
        ids[i] = member.id
        if i <= 9:
            db.execute(insert(MemberActivity).values(member_id=member.id, month=month_of(now), bills=i, stays=0,
                                                     spend_cents=i * 1000, points=0, nights=0))
        if i <= 10:
            db.execute(insert(Card).values(card_no=f"8800{i:08d}", card_type_id=types["standard"], member_id=member.id,
                                           status="active", issued_at=created, issued_outlet_id=member.enrolled_outlet_id))
    db.execute(update(Member).where(Member.id == ids[11]).values(updated_at=now - timedelta(days=20)))
    for i, owed, when in ((1, 85000, now - timedelta(minutes=1)), (2, 10000, now - timedelta(days=60))):
        card_id = db.execute(insert(Card).values(card_no=f"8802{i:08d}", card_type_id=types["credit"], member_id=ids[i],
                                                 status="active", issued_at=now, issued_outlet_id=outlets["REST"])
                             .returning(Card.id)).scalar_one()
        ledger.credit(db, card_account(db, card_id, CREDIT), owed, kind="charge", business_key=f"charge:{i}",
                      fingerprint=f"c{i}", occurred_at=when)
    db.commit()
    return {"ids": ids, "now": now}


def view(db, name, now=None, settings=None, **filters):
    db.rollback()
    model = AnalyticsFilters.model_validate(filters)
    return run_view(db, name, model, UTC, settings or AnalyticsSettings(), ReportSettings(), now=now).as_json()


def test_regions_follow_the_phone_number(seed, world):
    db, ids = seed.db, world["ids"]
    regions = {row.member_id: (row.province, row.city) for row in db.scalars(select(MemberRegion))}
    assert regions[ids[1]] == ("江苏省", "常州市") and regions[ids[4]] == ("北京市", "北京市")
    assert ids[6] not in regions
    member = db.get(Member, ids[1])
    member.phone = "+8613512345678"  # Chongqing
    db.commit()
    assert db.get(MemberRegion, ids[1]).province == "重庆市"
    member.phone = None
    db.commit()
    assert db.get(MemberRegion, ids[1]) is None


def test_card_mix(seed, world):
    cards = view(seed.db, "cards")
    assert cards["totals"] == {"active_cards": 12, "issued": 12}
    by_type = {row["card_type"]: row for row in cards["tables"][0]["rows"]}
    assert by_type["standard"]["active"] == 10 and by_type["standard"]["share"] == "0.8333"
    assert by_type["credit"]["active"] == 2 and by_type["credit"]["issued"] == 2
    assert sum(sum(series["data"]) for series in cards["chart"]["series"]) == 12
    rest = view(seed.db, "cards", outlet="SPA")
    assert rest["totals"]["active_cards"] == 4  # M7..M10's standard cards


def test_new_members_by_channel_and_outlet(seed, world):
    new = view(seed.db, "new-members")
    assert new["totals"] == {"new_members": 11, "channel_desk": 6, "channel_web": 5}
    by_outlet = {row["outlet"]: row["total"] for row in new["tables"][1]["rows"]}
    assert by_outlet == {"REST": 7, "SPA": 4}
    assert new["period"]["group_by"] == "month" and len(new["chart"]["categories"]) == 12
    weekly = view(seed.db, "new-members", group_by="week", channel="web")
    assert weekly["period"]["group_by"] == "week" and weekly["totals"] == {"new_members": 5, "channel_web": 5}
    assert all(date.fromisoformat(label).weekday() == 0 for label in weekly["chart"]["categories"])


def test_region_gender_and_age(seed, world):
    demo = view(seed.db, "demographics")
    assert demo["totals"] == {"members": 10, "provinces": 2, "gender_female": 5, "gender_male": 5,
                              "gender_other": 0, "gender_unspecified": 0}
    ages = {row["age"]: row["total"] for row in demo["tables"][0]["rows"]}
    assert ages == {"<18": 0, "18-24": 0, "25-34": 2, "35-44": 2, "45-54": 2, "55-64": 2, "65+": 2, "-": 0}
    provinces = {row["province"]: row["members"] for row in demo["tables"][1]["rows"]}
    assert provinces == {"江苏省": 3, "北京市": 2, "-": 5}
    assert demo["tables"][2]["rows"] == [
        {"province": "-", "city": "-", "members": 5, "share": "0.5000"},
        {"province": "江苏省", "city": "常州市", "members": 3, "share": "0.3000"},
        {"province": "北京市", "city": "北京市", "members": 2, "share": "0.2000"}]


def test_referral_ranking(seed, world):
    ranking = view(seed.db, "referrals")
    assert ranking["totals"] == {"referrers": 2, "referrals": 3, "spend": "90.00"}
    rows = ranking["tables"][0]["rows"]
    assert [(row["rank"], row["name"], row["referrals"], row["spend"]) for row in rows] == [
        (1, "M1", 2, "50.00"), (2, "M2", 1, "40.00")]


def test_rfm_quadrants_and_their_lists(seed, world):
    rfm = view(seed.db, "rfm")
    quadrants = {row["quadrant"]: (row["members"], row["value"]) for row in rfm["tables"][0]["rows"]}
    # r: M1,M2 -> 5 ... M9,M10 -> 1; f by visits (M10 none): M10,M1 -> 1, M2,M3 -> 2, M4,M5 -> 3, M6,M7 -> 4, M8,M9 -> 5
    assert quadrants == {"keep": (3, "150.00"), "develop": (3, "60.00"), "retain": (3, "240.00"),
                         "win_back": (1, "0.00")}
    assert rfm["totals"]["members"] == 10 and "page" not in rfm
    listed = view(seed.db, "rfm", quadrant="retain", per_page="2")
    rows = listed["tables"][2]["rows"]
    assert [row["name"] for row in rows] == ["M9", "M8"] and listed["page"] == {"page": 1, "per_page": 2, "total": 3}
    assert (rows[0]["r"], rows[0]["f"]) == (1, 5)
    second = view(seed.db, "rfm", quadrant="retain", per_page="2", page="2")
    assert [row["name"] for row in second["tables"][2]["rows"]] == ["M7"]


def test_churn_warning(seed, world):
    churn = view(seed.db, "churn", now=world["now"])
    # At least 60 days away and 2 usual intervals (a window of 335-366 days / visits): only M9
    # (90 days × 9 visits = 810 >= 2 × 366); M8: 80 × 8 = 640 < 2 × 335; M10 had no visit in the window.
    assert churn["totals"]["at_risk"] == 1 and churn["totals"]["value_at_risk"] == "90.00"
    assert churn["tables"][0]["rows"][0]["name"] == "M9" and churn["tables"][0]["rows"][0]["days_absent"] == 90
    looser = view(seed.db, "churn", now=world["now"], settings=AnalyticsSettings(churn_days=60, churn_factor=Decimal("1")))
    assert [row["name"] for row in looser["tables"][0]["rows"]] == ["M9", "M8", "M7"]  # by value at risk
    # The page and the tiers' sums come from one statement: a later page keeps every tier's total.
    second = view(seed.db, "churn", now=world["now"], per_page="2", page="2",
                  settings=AnalyticsSettings(churn_days=60, churn_factor=Decimal("1")))
    assert [row["name"] for row in second["tables"][0]["rows"]] == ["M7"]
    assert second["page"] == {"page": 2, "per_page": 2, "total": 3}
    assert sum(row["members"] for row in second["tables"][1]["rows"]) == 3 == second["totals"]["at_risk"]
    assert second["tables"][1]["rows"] == looser["tables"][1]["rows"]


def test_credit_warning(seed, world):
    credit = view(seed.db, "credit", now=world["now"])
    assert credit["totals"] == {"cards": 2, "owed": "950.00", "overdue": "100.00"}
    rows = {row["name"]: row for row in credit["tables"][0]["rows"]}
    assert rows["M1"]["usage"] == "0.8500" and rows["M1"]["overdue"] == "0.00"
    assert rows["M2"]["overdue"] == "100.00"


def test_lifecycle(seed, world):
    now = world["now"]
    life = view(seed.db, "lifecycle", period="month")
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    created = {i: now - timedelta(days=30 * i) for i in range(1, 11)}
    created[11] = now - timedelta(days=200)
    new = sum(1 for when in created.values() if when >= month_start)
    before = [i for i, when in created.items() if when < month_start]
    active = len([i for i in before if i <= 9])
    assert life["totals"] == {"new": new, "active": active, "dormant": len(before) - 1 - active, "closed": 1,
                              "total": 11}


@pytest.mark.parametrize("filters", [{"group_by": "week"}, {"group_by": "month"}, {"period": "range", "from": "{first}",
                                                                               "to": "{last}", "group_by": "day"}])
def test_new_members_and_closings_fall_in_their_local_bucket(seed, filters):
    """Each enrolment and closing counts in the bucket whose local bounds hold it, in Asia/Shanghai,
    at the stroke of midnight and a second before it (PostgreSQL groups by the local time, SQLite
    joins the buckets' bounds: both agree with the bounds)."""
    from datetime import datetime, time, timezone

    from lps_core.analytics.scope import analytics_scope

    db, shanghai = seed.db, ZoneInfo("Asia/Shanghai")
    today = datetime.now(shanghai).date()
    moments = []
    for days_back in (0, 1, 6, 7, 8, 13, 31, 45, 90, 200, 364):
        midnight = datetime.combine(today - timedelta(days=days_back), time.min, shanghai).astimezone(timezone.utc)
        moments += [midnight, midnight - timedelta(seconds=1), midnight + timedelta(hours=9)]
    for n, moment in enumerate(moments):
        db.add(Member(name=f"N{n}", channel="desk", status="closed" if n % 4 == 0 else "active",
                      created_at=moment, updated_at=moment + timedelta(days=3)))
    db.flush()
    for n, member in enumerate(db.scalars(select(Member).where(Member.name.like("N%")))):
        db.execute(update(Member).where(Member.id == member.id).values(updated_at=member.created_at + timedelta(days=3)))
    db.commit()
    given = {key: value.format(first=today - timedelta(days=20), last=today) for key, value in filters.items()}
    model = AnalyticsFilters.model_validate(given)
    scope = analytics_scope(db, model, shanghai, today=today)
    new = run_view(db, "new-members", model, shanghai, AnalyticsSettings(), ReportSettings(), today=today)
    life = run_view(db, "lifecycle", model, shanghai, AnalyticsSettings(), ReportSettings(), today=today)
    per_bucket = {row["period"]: row["total"] for row in new.tables[0].rows}
    closed_by = {row["period"]: row["closed"] for row in life.tables[0].rows}
    def aware(moment):  # SQLite gives back naive UTC
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)

    members = [(aware(created), aware(closed), status) for created, closed, status in db.execute(
        select(Member.created_at, Member.updated_at, Member.status).where(Member.name.like("N%")))]
    closed_before = sum(1 for _, closed, status in members if status == "closed" and closed < scope.starts)
    for bucket in scope.buckets:
        assert per_bucket[bucket.label] == sum(1 for created, _, _ in members
                                               if bucket.starts <= created < bucket.ends), bucket.label
        assert closed_by[bucket.label] == closed_before + sum(
            1 for _, closed, status in members if status == "closed" and scope.starts <= closed < bucket.ends)


@pytest.mark.parametrize("active_months, group_by", [(3, "month"), (1, "month"), (6, "week")])
def test_lifecycle_active_members_match_their_definition(seed, active_months, group_by):
    """Members active at each bucket's end, against the definition counted member by member:
    enrolled before the bucket, not closed by its end, with a month of activity among the
    `active_months` calendar months up to its last day (activity with gaps, before enrolment,
    after closing, of a pending member)."""
    from lps_core.analytics.common import COUNTED, window_start
    from lps_core.analytics.members import _active_per_bucket
    from lps_core.analytics.scope import analytics_scope

    db, now = seed.db, utcnow()
    today = now.date()
    pattern = [  # months back with activity, days since enrolment, status, days since closing
        ({0}, 900, "active", None), ({1, 5}, 900, "active", None), ({2, 3, 9}, 900, "dormant", None),
        ({4}, 900, "active", None), ({7, 8, 10, 11}, 900, "active", None), ({13}, 900, "active", None),
        (set(range(12)), 900, "active", None), ({6}, 100, "active", None), ({3}, 900, "closed", 60),
        (set(), 900, "active", None), ({2, 14}, 900, "pending", None), ({5, 6}, 20, "active", None),
        ({0, 1}, 400, "closed", 5)]
    members = []
    for months_back, enrolled, status, closed in pattern:
        member = Member(name="L", channel="desk", status=status, created_at=now - timedelta(days=enrolled),
                        updated_at=now - timedelta(days=closed) if closed else now)
        db.add(member)
        db.flush()
        months = {window_start(today, back + 1) for back in months_back}
        for month in months:
            db.execute(insert(MemberActivity).values(member_id=member.id, month=month, bills=1, stays=0,
                                                     spend_cents=100, points=0, nights=0))
        db.execute(update(Member).where(Member.id == member.id).values(updated_at=member.updated_at))
        members.append((member, months))
    db.commit()
    filters = AnalyticsFilters.model_validate({"group_by": group_by})
    scope = analytics_scope(db, filters, UTC, today=today)
    found = _active_per_bucket(db, scope, filters, active_months)
    for bucket in scope.buckets:
        last_day = (bucket.ends - timedelta(microseconds=1)).astimezone(UTC).date()
        first_month = window_start(last_day, active_months)
        expected = sum(1 for member, months in members
                       if member.status in COUNTED and member.created_at < bucket.starts
                       and (member.status != "closed" or member.updated_at >= bucket.ends)
                       and any(first_month <= month <= last_day for month in months))
        assert found.get(bucket.label, 0) == expected, bucket.label


def test_the_api_answers_json_csv_and_xlsx_with_the_same_figures(testapp, seed, world):
    headers = {"Authorization": f"Bearer {seed.api_key('REST', scopes=['reports'])}"}
    answer = testapp.get("/api/v1/analytics/rfm", headers=headers).json
    assert answer["report"] == "rfm" and answer["totals"]["members_keep"] == 3
    text = testapp.get("/api/v1/analytics/rfm", {"format": "csv"}, headers=headers).body.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    quadrant_rows = {row[0]: row[2] for row in rows if row and row[0] in ("keep", "develop", "retain", "win_back")}
    assert quadrant_rows == {"keep": "3", "develop": "3", "retain": "3", "win_back": "1"}
    book = load_workbook(io.BytesIO(testapp.get("/api/v1/analytics/new-members", {"format": "xlsx"},
                                                headers=headers).body))
    cells = [cell for row in book.worksheets[0].iter_rows(values_only=True) for cell in row]
    assert 11 in cells
    other = {"Authorization": f"Bearer {seed.api_key('REST', scopes=['members'])}"}
    testapp.get("/api/v1/analytics/rfm", headers=other, status=403)


@pytest.mark.parametrize(("query", "field", "status"), [
    ({"group_by": "year"}, "group_by", 400), ({"quadrant": "gold"}, "quadrant", 400),
    ({"channel": "fax"}, "channel", 400), ({"per_page": "5000"}, "per_page", 400), ({"bogus": "1"}, "bogus", 400),
    ({"outlet": "NOPE"}, "outlet", 422), ({"period": "range", "from": "2026-11-05"}, "to", 422),
])
def test_bad_filters_name_the_field(testapp, seed, query, field, status):
    headers = {"Authorization": f"Bearer {seed.api_key('REST', scopes=['reports'])}"}
    problem = testapp.get("/api/v1/analytics/rfm", query, headers=headers, status=status).json
    assert field in str(problem)


@pytest.mark.parametrize("group_by", ["day", "week", "month"])
def test_the_document_allows_every_grouping_a_view_answers_with(testapp, seed, world, group_by):
    document = testapp.get("/api/v1/openapi.json").json
    period = document["components"]["schemas"]["AnalyticsView"]["properties"]["period"]["properties"]
    headers = {"Authorization": f"Bearer {seed.api_key('REST', scopes=['reports'])}"}
    answer = testapp.get("/api/v1/analytics/demographics", {"group_by": group_by}, headers=headers).json
    assert answer["period"]["group_by"] == group_by
    assert group_by in period["group_by"]["enum"]


def test_settings_are_checked():
    assert AnalyticsSettings.from_mapping({"lps.analytics.churn_days": "90"}).churn_days == 90
    for key, value in (("lps.analytics.churn_days", "0"), ("lps.analytics.churn_factor", "x"),
                       ("lps.analytics.window_months", "abc")):
        with pytest.raises(ConfigurationError):
            AnalyticsSettings.from_mapping({key: value})


def rfm_lists(db, **filters):
    """The RFM view and each quadrant's whole list, over the same filters."""
    return view(db, "rfm", **filters), {q: view(db, "rfm", quadrant=q, per_page="500", **filters)["tables"][2]["rows"]
                                        for q in QUADRANTS}


def without_notes(answer):
    return {key: value for key, value in answer.items() if key != "notes"}


def test_the_nightly_scoring_answers_as_the_live_scoring(seed, world):
    db = seed.db
    yesterday = utcnow().date() - timedelta(days=1)
    period = {"period": "range", "from": (yesterday - timedelta(days=300)).isoformat(), "to": yesterday.isoformat()}
    live, live_lists = rfm_lists(db, **period)
    assert live["notes"] == [] and live["totals"]["members"] == 10
    scoring = score(db, yesterday, UTC, AnalyticsSettings(), now=utcnow())
    db.commit()
    assert scoring.members == 10 and db.scalar(select(func.count()).select_from(RfmScore)) == 10
    stored, stored_lists = rfm_lists(db, **period)
    assert without_notes(stored) == without_notes(live) and stored_lists == live_lists
    assert stored["notes"] == [f"Scores of the nightly scoring as of {yesterday.isoformat()}, scored at "
                               f"{scoring.scored_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC."]
    default = view(db, "rfm")  # without a period: the day of the fresh scoring
    assert default["period"]["to"] == yesterday.isoformat() and default["notes"] == stored["notes"]
    assert default["tables"] == stored["tables"]
    paged = view(db, "rfm", quadrant="retain", per_page="2", page="2", **period)
    assert paged["tables"][2]["rows"] == live_lists["retain"][2:4] and paged["page"]["total"] == 3


def test_what_the_scoring_cannot_answer_is_scored_live(seed, world):
    db = seed.db
    today = utcnow().date()
    before = {name: view(db, "rfm", **filters) for name, filters in
              (("spa", {"outlet": "SPA"}), ("web", {"channel": "web"}), ("today", {}))}
    score(db, today - timedelta(days=1), UTC, AnalyticsSettings(), now=utcnow())
    db.commit()
    for name, filters in (("spa", {"outlet": "SPA"}), ("web", {"channel": "web"}),
                          ("today", {"period": "range", "from": (today - timedelta(days=300)).isoformat(),
                                     "to": today.isoformat()})):
        answer = view(db, "rfm", **filters)
        assert answer["notes"] == [] and answer["tables"] == before[name]["tables"], name
    other_window = view(db, "rfm", settings=AnalyticsSettings(window_months=3))
    assert other_window["notes"] == [] and other_window["period"]["to"] == today.isoformat()


def test_a_stale_scoring_is_not_the_default(seed, world):
    db = seed.db
    today = utcnow().date()
    score(db, today - timedelta(days=3), UTC, AnalyticsSettings(), now=utcnow())
    db.commit()
    answer = view(db, "rfm")
    assert answer["period"]["to"] == today.isoformat() and answer["notes"] == []


@pytest.fixture
def ini(tmp_path, database_url):
    return write_ini(tmp_path, database_url, "lps.timezone = UTC\n")


def test_the_command_keeps_one_scoring_the_latest(seed, world, ini):
    db = seed.db
    yesterday = utcnow().date() - timedelta(days=1)
    first = run_lps(ini, "jobs", "rfm", "--as-of", (yesterday - timedelta(days=1)).isoformat())
    assert f"RFM scores as of {yesterday - timedelta(days=1)}: 10 members scored; 0 older scores dropped" in first.stdout
    second = run_lps(ini, "jobs", "rfm")
    assert f"RFM scores as of {yesterday}: 10 members scored; 10 older scores dropped" in second.stdout
    db.rollback()
    assert db.scalars(select(RfmScoring.as_of)).all() == [yesterday]
    assert db.scalar(select(func.count()).select_from(RfmScore)) == 10
    bad = run_lps(ini, "jobs", "rfm", "--as-of", "yesterday", expect=1)
    assert "--as-of must be a date" in bad.stderr
    assert "must not be after today" in run_lps(ini, "jobs", "rfm", "--as-of", "2999-01-01", expect=1).stderr
