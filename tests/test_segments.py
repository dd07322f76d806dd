"""Segments against a known set of members: each condition's count worked out by hand from the
set's definition, conditions combined, unknown codes 422 naming the field, the preview list."""
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select, update

from lps_core.analytics.models import RfmScoring
from lps_core.analytics.scoring import score
from lps_core.analytics.settings import AnalyticsSettings
from lps_core.cards.models import Card, CardType
from lps_core.earning.models import Bill
from lps_core.errors import Unprocessable
from lps_core.marketing import segments
from lps_core.marketing.schemas import SegmentDefinition
from lps_core.members.activity import month_of
from lps_core.members.models import Member, MemberActivity, Tier
from lps_core.messages.consent import set_consent
from lps_core.outlets.models import Outlet
from lps_core.timeutil import utcnow

UTC = ZoneInfo("UTC")


@pytest.fixture
def world(seed):
    """M1..M8 active, M9 closed. Mi: tier gold when i <= 2, silver for 3..4, else classic; enrolled
    at REST when i is odd, else SPA, by desk when i <= 4 else web; female when i is odd; born in
    month i; last visit 10i days ago; i visits and i x 100.00 spend this month (M8: none); a bill at
    SPA with a 'wine' line for M1 and M2, at REST with a 'food' line for M3; an active standard card
    for i <= 6, a 'vip' card for M7; e-mail consent for even i, SMS for M3."""
    db = seed.db
    now = utcnow()
    outlets = dict(db.execute(select(Outlet.code, Outlet.id)).all())
    tiers = dict(db.execute(select(Tier.code, Tier.id)).all())
    db.execute(insert(CardType).values(code="vip", name="VIP", prefix="8809"))
    types = dict(db.execute(select(CardType.code, CardType.id)).all())
    ids = {}
    for i in range(1, 10):
        member = Member(name=f"M{i}", channel="desk" if i <= 4 else "web", status="closed" if i == 9 else "active",
                        gender="female" if i % 2 else "male", birthday=date(1980, i, 3),
                        tier_id=tiers["gold" if i <= 2 else "silver" if i <= 4 else "classic"],
                        enrolled_outlet_id=outlets["REST" if i % 2 else "SPA"],
                        last_activity_at=now - timedelta(days=10 * i))
        db.add(member)
        db.flush()
        ids[i] = member.id
        if i <= 7:
            db.execute(insert(MemberActivity).values(member_id=member.id, month=month_of(now), bills=i, stays=0,
                                                     spend_cents=i * 10000, points=0, nights=0))
        if i <= 7:
            card = db.execute(insert(Card).values(card_no=f"8800{i:08d}", member_id=member.id, status="active",
                                                  card_type_id=types["vip" if i == 7 else "standard"])
                              .returning(Card.id)).scalar_one()
        if i <= 3:
            db.execute(insert(Bill).values(outlet_id=outlets["SPA" if i <= 2 else "REST"], bill_no=f"B{i}", card_id=card,
                                           member_id=member.id, amount_cents=10000, fingerprint=f"f{i}", points=0,
                                           items=[{"sku": "S1", "category": "wine" if i <= 2 else "food",
                                                   "qty": "1", "amount": "100.00"}],  # as the earn path writes them
                                           occurred_at=now - timedelta(days=1)))
        if i % 2 == 0:
            set_consent(db, member.id, "email", True, source="staff")
    set_consent(db, ids[3], "sms", True, source="staff")
    db.commit()
    return {"ids": ids, "now": now}


def members(db, world, **definition):
    model = SegmentDefinition.model_validate(definition)
    segments.check_definition(db, model)
    found = set(db.scalars(segments.members_of(db, model, world["now"], UTC)))
    assert segments.count(db, model, world["now"], UTC) == len(found)
    by_number = {member_id: i for i, member_id in world["ids"].items()}
    return {by_number[member_id] for member_id in found}


@pytest.mark.parametrize("definition, expected", [
    ({}, {1, 2, 3, 4, 5, 6, 7, 8}),
    ({"statuses": ["active", "dormant", "suspended"]}, {1, 2, 3, 4, 5, 6, 7, 8}),
    ({"tiers": ["gold"]}, {1, 2}),
    ({"tiers": ["gold", "silver"]}, {1, 2, 3, 4}),
    ({"card_types": ["vip"]}, {7}),
    ({"enrolment_outlets": ["REST"]}, {1, 3, 5, 7}),
    ({"enrolment_channels": ["web"]}, {5, 6, 7, 8}),
    ({"birthday_months": [2, 8]}, {2, 8}),
    ({"genders": ["male"]}, {2, 4, 6, 8}),
    ({"visited_within_days": 35}, {1, 2, 3}),
    ({"absent_days": 55}, {6, 7, 8}),
    ({"visits_min": 3, "visits_max": 5}, {3, 4, 5}),
    ({"visits_max": 2}, {1, 2, 8}),
    ({"spend_min": "400.00"}, {4, 5, 6, 7}),
    ({"visited_outlets": ["SPA"]}, {1, 2}),
    ({"categories": ["food"]}, {3}),
    ({"categories": ["wine", "food"]}, {1, 2, 3}),
    ({"categories": ["S1"]}, set()),  # a SKU, not a category
    ({"consent": ["email"]}, {2, 4, 6, 8}),
    ({"consent": ["sms", "email"]}, {2, 3, 4, 6, 8}),
    ({"tiers": ["gold", "silver"], "consent": ["email"], "enrolment_channels": ["desk"]}, {2, 4}),
])
def test_a_segment_counts_the_members_its_definition_names(seed, world, definition, expected):
    assert members(seed.db, world, **definition) == expected


def test_rfm_quadrants_come_from_analytics(seed, world):
    every = members(seed.db, world, rfm_quadrants=["keep", "develop", "retain", "win_back"])
    assert every == {1, 2, 3, 4, 5, 6, 7, 8}  # every active member with a visit is scored
    recent = members(seed.db, world, rfm_quadrants=["keep", "develop"])
    assert recent and recent < every and max(recent) < min(every - recent)  # the recent visitors


def test_the_preview_lists_members_in_order(seed, world):
    rows = segments.preview(seed.db, SegmentDefinition.model_validate({"tiers": ["gold"]}), world["now"], UTC)
    assert [(row["name"], row["tier"]) for row in rows] == [("M1", "gold"), ("M2", "gold")]


@pytest.mark.parametrize("definition, field", [
    ({"tiers": ["platinum"]}, "definition.tiers"),
    ({"visited_outlets": ["NOPE"]}, "definition.visited_outlets"),
    ({"visits_min": 5, "visits_max": 2}, "definition.visits_max"),
])
def test_a_bad_definition_names_its_field(seed, world, definition, field):
    with pytest.raises(Unprocessable) as raised:
        segments.check_definition(seed.db, SegmentDefinition.model_validate(definition))
    assert field in raised.value.fields


def churn_view_members(db, world, settings):
    from lps_core.analytics.catalogue import run_view
    from lps_core.analytics.schemas import AnalyticsFilters
    from lps_core.reports.settings import ReportSettings

    report = run_view(db, "churn", AnalyticsFilters.model_validate({"per_page": "500"}), UTC, settings,
                      ReportSettings(), now=world["now"])
    by_number = {member_id: i for i, member_id in world["ids"].items()}
    return {by_number[row["member_id"]] for row in report.tables[0].rows}


@pytest.mark.parametrize("churn_days, factor, expected", [
    (60, "2", set()),  # M7, the longest away with visits: 70 days x 7 visits = 490 < 2 x a 335-366 day window
    (60, "1", {7}),  # 490 >= 366; M6 is 60 days away, not more
    (30, "1.3", {7}),  # M6: 60 x 6 = 360 < 1.3 x 335
])
def test_churn_risk_flags_the_members_of_the_churn_warning(seed, world, churn_days, factor, expected):
    from decimal import Decimal

    from lps_core.analytics.settings import AnalyticsSettings

    settings = AnalyticsSettings(churn_days=churn_days, churn_factor=Decimal(factor))
    db, every = seed.db, {1, 2, 3, 4, 5, 6, 7, 8}
    model = SegmentDefinition.model_validate({"churn_risk": True})
    flagged = {i for i, member_id in world["ids"].items()
               if member_id in set(db.scalars(segments.members_of(db, model, world["now"], UTC, analytics=settings)))}
    assert flagged == expected == churn_view_members(db, world, settings)
    unflagged = SegmentDefinition.model_validate({"churn_risk": False})
    assert segments.count(db, unflagged, world["now"], UTC, analytics=settings) == len(every - expected)
    both = SegmentDefinition.model_validate({"churn_risk": True, "tiers": ["classic"]})
    assert segments.count(db, both, world["now"], UTC, analytics=settings) == len(expected & {5, 6, 7, 8})


def test_churn_risk_reads_the_settings_of_the_app_whose_session_it_is(seed, world):
    from pyramid.registry import Registry

    db = seed.db
    model = SegmentDefinition.model_validate({"churn_risk": True})
    assert members(db, world, churn_risk=True) == set()  # no app: the defaults (60 days, 2 intervals)
    registry = Registry()
    registry.settings = {"lps.analytics.churn_days": "60", "lps.analytics.churn_factor": "1"}
    db.info["registry"] = registry
    try:
        assert segments.count(db, model, world["now"], UTC) == 1  # M7, as with these settings above
    finally:
        del db.info["registry"]


def test_rfm_quadrants_read_the_fresh_nightly_scoring(seed, world):
    db, now = seed.db, world["now"]
    recent = members(db, world, rfm_quadrants=["keep", "develop"])
    assert 8 not in recent
    score(db, now.date() - timedelta(days=1), UTC, AnalyticsSettings(), now=now)
    db.commit()
    assert members(db, world, rfm_quadrants=["keep", "develop"]) == recent
    # M8 visits after the scoring: live scoring would now call them recent; the segment keeps the
    # night's scores until the next scoring, or scores live when there is no fresh one.
    db.execute(update(Member).where(Member.id == world["ids"][8]).values(last_activity_at=now - timedelta(minutes=1)))
    db.commit()
    assert members(db, world, rfm_quadrants=["keep", "develop"]) == recent
    db.execute(update(RfmScoring).values(as_of=now.date() - timedelta(days=2)))
    db.commit()
    assert 8 in members(db, world, rfm_quadrants=["keep", "develop"])


def test_churn_risk_takes_the_window_visits_of_the_fresh_nightly_scoring(seed, world):
    from decimal import Decimal

    db, now, ids = seed.db, world["now"], world["ids"]
    settings = AnalyticsSettings(churn_days=30, churn_factor=Decimal("1.3"))

    def at_risk():
        found = set(db.scalars(segments.members_of(db, SegmentDefinition.model_validate({"churn_risk": True}),
                                                   now, UTC, analytics=settings)))
        return {i for i, member_id in ids.items() if member_id in found}

    assert at_risk() == {7}  # live, as the churn warning's view
    score(db, now.date(), UTC, settings, now=now)  # as of today: the same window whatever the day
    db.commit()
    assert at_risk() == {7} == churn_view_members(db, world, settings)
    # M6's visits grow after the scoring (a bill dated back, say): 60 days x 10 visits would flag
    # them live; the segment keeps the night's visits until the scoring is stale.
    db.execute(update(MemberActivity).where(MemberActivity.member_id == ids[6]).values(bills=10))
    db.commit()
    assert at_risk() == {7} and churn_view_members(db, world, settings) == {6, 7}
    # A visit since the scoring moves the last visit, read live: M7 drops out at once.
    db.execute(update(Member).where(Member.id == ids[7]).values(last_activity_at=now - timedelta(minutes=1)))
    db.commit()
    assert at_risk() == set()
    db.execute(update(RfmScoring).values(as_of=now.date() - timedelta(days=2)))
    db.commit()
    assert at_risk() == {6}  # stale: the monthly counters now
