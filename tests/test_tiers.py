"""Tiers: qualification windows, immediate upgrades, `lps jobs tiers`, floors, purchases, lifecycle, API."""
import argparse
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select, update
from zope.interface import implementer

from lps_core.contract import hookimpl
from lps_core.cards.models import Card
from lps_core.db import get_session_factory, run_in_transaction
from lps_core.errors import ConfigurationError, Conflict, InsufficientBalance, Unprocessable, ValidationFailed
from lps_core.contract import ITierModel
from lps_core.ledger.models import POINTS, Account
from lps_core.ledger.services import credit
from lps_core.members.models import Member, Tier
from lps_core.plugins import load_plugins
from lps_core.tiers import services as tiers
from lps_core.members.activity import record_activity
from lps_core.batch_jobs import parse_now
from lps_core.tiers.jobs import evaluate_tiers, run_tier_job
from lps_core.tiers.models import TierChange, TierEvaluation
from lps_core.tiers.points_threshold import PointsThresholdModel
from lps_core.testing import TEST_SETTINGS

NOW = datetime(2025, 6, 15, 12, tzinfo=timezone.utc)
HOTEL_TIERS = {
    "silver": {"nights": 10, "spend": "2000.00"},
    "gold": {"nights": 25, "spend": "5000.00", "points": 20000},
}


class Recorder:
    """A plugin that records lps_on_tier_changed."""

    def __init__(self):
        self.events = []

    @hookimpl
    def lps_on_tier_changed(self, member_id, old_tier, new_tier):
        self.events.append((member_id, old_tier, new_tier))


@implementer(ITierModel)
class PlainThresholdModel:
    """The points_threshold rules without SQL: makes the job fall back to qualify() per member."""

    name = "plain_threshold"

    def qualify(self, activity, tiers):
        return PointsThresholdModel().qualify(activity, tiers)


class PlainModelPlugin:
    @hookimpl
    def lps_tier_models(self):
        return [PlainThresholdModel()]


class JobEnv:
    """What lps_core.cli.Environment gives a job, on the test database."""

    def __init__(self, engine, plugins, **settings):
        self.settings = settings
        self.engine = engine
        self.session_factory = get_session_factory(engine)
        self.plugins = plugins

    def transaction(self, work):
        return run_in_transaction(self.session_factory, work)


@pytest.fixture
def recorder():
    return Recorder()


@pytest.fixture
def hooked(recorder):
    return load_plugins({}, extra_plugins=[("recorder", recorder), ("plain_model", PlainModelPlugin())])


@pytest.fixture
def programme(seed):
    """classic < silver (10 nights or 2000 spend) < gold (25 nights, 5000 spend or 20000 points; 30000
    points to buy) < diamond (40 stays; invitation or 90000 points)."""
    db = seed.db
    for code, qualification in HOTEL_TIERS.items():
        db.execute(update(Tier).where(Tier.code == code).values(qualification=qualification))
    db.execute(update(Tier).where(Tier.code == "gold").values(purchase_points=30000, entitlements=["late checkout"],
                                                              discount_rate="0.1000"))
    db.execute(insert(Tier).values(code="diamond", name="Diamond", rank=3, multiplier="2", discount_rate="0.1500",
                                   entitlements=["late checkout", "lounge"], qualification={"stays": 40},
                                   purchase_points=90000))
    db.commit()
    return seed


def member(seed, tier=None, **values) -> int:
    card_no = seed.member_card(tier=tier)
    member_id = seed.db.scalar(select(Card.member_id).where(Card.card_no == card_no))
    if values:
        seed.db.execute(update(Member).where(Member.id == member_id).values(**values))
    seed.db.commit()
    return member_id


def read(db, statement, scalar=True):
    """Read and end the transaction: on SQLite every transaction holds the write lock (BEGIN IMMEDIATE)."""
    value = db.scalar(statement) if scalar else db.execute(statement).all()
    db.commit()
    return value


def tier_of(db, member_id):
    return read(db, select(Tier.code).join(Member, Member.tier_id == Tier.id).where(Member.id == member_id))


def status_of(db, member_id):
    return read(db, select(Member.status).where(Member.id == member_id))


def changes_of(db, member_id):
    return read(db, select(TierChange.reason, TierChange.evaluation_id).where(TierChange.member_id == member_id)
                .order_by(TierChange.id), scalar=False)


def give_points(seed, member_id, points, key):
    account_id = seed.db.scalar(select(Account.id).where(Account.member_id == member_id, Account.kind == POINTS))
    credit(seed.db, account_id, points, kind="earn", business_key=key, fingerprint=key,
           expires_at=NOW + timedelta(days=700), occurred_at=NOW - timedelta(days=1))
    seed.db.commit()


# --- settings, windows, tier list ----------------------------------------------------------------

def test_settings_have_defaults_and_are_checked():
    assert tiers.tier_settings({}) == tiers.TierSettings("points_threshold", "rolling_12_months", 0, 0)
    assert tiers.tier_settings({"lps.tiers.window": "calendar_year", "lps.members.dormant_after_months": "12",
                                "lps.members.close_after_months": "36"}).close_after_months == 36
    with pytest.raises(ConfigurationError, match="lps.tiers.window"):
        tiers.tier_settings({"lps.tiers.window": "fiscal"})
    with pytest.raises(ConfigurationError, match="dormant_after_months"):
        tiers.tier_settings({"lps.members.dormant_after_months": "-1"})
    with pytest.raises(ConfigurationError, match="more than"):
        tiers.tier_settings({"lps.members.dormant_after_months": "12", "lps.members.close_after_months": "6"})


def test_an_unknown_model_is_named(plugins):
    with pytest.raises(ConfigurationError, match="'nights_only'.*points_threshold"):
        tiers.tier_model(plugins, {"lps.tiers.model": "nights_only"})


def test_windows():
    assert tiers.qualification_windows("rolling_12_months", NOW) == [(datetime(2024, 7, 1).date(),
                                                                     datetime(2025, 7, 1).date())]
    assert tiers.qualification_windows("calendar_year", NOW) == [
        (datetime(2024, 1, 1).date(), datetime(2025, 1, 1).date()),
        (datetime(2025, 1, 1).date(), datetime(2025, 7, 1).date())]


def test_qualification_json_becomes_counter_thresholds():
    assert tiers.threshold_of("gold", {"nights": 25, "spend": "5000.00", "stays": 3, "points": 1}) == {
        "nights": 25, "spend_cents": 500000, "stays": 3, "points": 1}
    for bad, message in (({"night": 1}, "unknown qualification 'night'"), ({"spend": "12.345"}, "spend"),
                         ({"points": -1}, "non-negative"), ({"stays": "4"}, "non-negative")):
        with pytest.raises(ConfigurationError, match=message):
            tiers.threshold_of("gold", bad)


def test_evaluation_target_moves_down_one_level_and_respects_the_floor():
    ranks = [0, 1, 2, 5]
    assert tiers.evaluation_target(ranks, current=5, qualified=0, floor=0) == 2
    assert tiers.evaluation_target(ranks, current=1, qualified=5, floor=0) == 5
    assert tiers.evaluation_target(ranks, current=5, qualified=0, floor=5) == 5
    assert tiers.evaluation_target(ranks, current=0, qualified=0, floor=2) == 2


# --- immediate upgrade ---------------------------------------------------------------------------

@pytest.mark.parametrize(("activity", "expected"), [
    ({"nights": 9, "spend_cents": 199999}, "classic"),
    ({"nights": 10}, "silver"),
    ({"spend_cents": 200000}, "silver"),
    ({"points": 20000}, "gold"),
    ({"nights": 24, "spend_cents": 500000}, "gold"),  # "25 nights or 5000 spend"
    ({"nights": 25}, "gold"),
    ({"stays": 40}, "diamond"),
])
def test_upgrade_by_each_criterion(programme, hooked, recorder, activity, expected):
    member_id = member(programme)
    record_activity(programme.db, member_id, NOW, **activity)
    change = tiers.upgrade_if_qualified(programme.db, hooked, {}, member_id, NOW)
    programme.db.commit()
    assert tier_of(programme.db, member_id) == expected
    if expected == "classic":
        assert change is None and recorder.events == []
    else:
        assert (change.old_tier, change.new_tier, change.reason) == ("classic", expected, "qualified")
        assert recorder.events == [(member_id, "classic", expected)]
        assert changes_of(programme.db, member_id) == [("qualified", None)]


def test_activity_adds_up_over_the_window_and_never_downgrades(programme, hooked):
    member_id = member(programme, tier="gold")
    record_activity(programme.db, member_id, NOW - timedelta(days=60), nights=6)
    record_activity(programme.db, member_id, NOW, nights=6)
    assert tiers.upgrade_if_qualified(programme.db, hooked, {}, member_id, NOW) is None
    assert tier_of(programme.db, member_id) == "gold"
    other = member(programme)
    record_activity(programme.db, other, NOW - timedelta(days=60), nights=6)
    record_activity(programme.db, other, NOW, nights=6)
    assert tiers.upgrade_if_qualified(programme.db, hooked, {}, other, NOW).new_tier == "silver"


def test_calendar_year_and_rolling_windows(programme, hooked):
    member_id = member(programme)
    record_activity(programme.db, member_id, datetime(2024, 11, 20, tzinfo=timezone.utc), nights=10)
    programme.db.commit()
    calendar = {"lps.tiers.window": "calendar_year"}
    assert tiers.upgrade_if_qualified(programme.db, hooked, calendar, member_id, NOW) is None
    assert tiers.upgrade_if_qualified(programme.db, hooked, {}, member_id, NOW).new_tier == "silver"
    later = datetime(2025, 12, 1, tzinfo=timezone.utc)  # November 2024 has left the rolling window
    assert tiers.window_activity(programme.db, member_id, *tiers.current_window("rolling_12_months", later))[
        "nights"] == 0


def test_dormant_members_are_reactivated(programme):
    member_id = member(programme, status="dormant")
    assert tiers.reactivate_if_dormant(programme.db, member_id) is True
    assert tiers.reactivate_if_dormant(programme.db, member_id) is False
    assert status_of(programme.db, member_id) == "active"


# --- the job -------------------------------------------------------------------------------------

def run(engine, plugins, now=NOW, **kwargs):
    settings = kwargs.pop("settings", {})
    return evaluate_tiers(JobEnv(engine, plugins, **settings), now=now, **kwargs)


@pytest.mark.parametrize("model", ["points_threshold", "plain_threshold"])
def test_evaluation_downgrades_one_level_and_upgrades(programme, engine, hooked, recorder, model):
    db = programme.db
    idle_gold, idle_silver, busy, diamond = (member(programme, tier="gold"), member(programme, tier="silver"),
                                             member(programme), member(programme, tier="diamond"))
    record_activity(db, busy, NOW - timedelta(days=100), nights=30)
    record_activity(db, diamond, NOW, nights=10)
    record_activity(db, idle_gold, NOW - timedelta(days=400), nights=99)  # outside the window
    db.commit()
    result = run(engine, hooked, settings={"lps.tiers.model": model}, batch_size=2)
    assert (result.upgraded, result.downgraded) == (1, 3)
    assert [tier_of(db, m) for m in (idle_gold, idle_silver, busy, diamond)] == ["silver", "classic", "gold", "gold"]
    evaluation = read(db, select(TierEvaluation).where(TierEvaluation.run_key == "2025-06-15"))
    assert evaluation.finished_at is not None and evaluation.members_changed == 4
    assert changes_of(db, busy) == [("evaluation", evaluation.id)]
    assert sorted(recorder.events) == sorted([(idle_gold, "gold", "silver"), (idle_silver, "silver", "classic"),
                                              (busy, "classic", "gold"), (diamond, "diamond", "gold")])
    again = run(engine, hooked, settings={"lps.tiers.model": model})
    assert again.already_done and tier_of(db, idle_gold) == "silver"
    next_year = run(engine, hooked, now=NOW + timedelta(days=365), settings={"lps.tiers.model": model})
    assert next_year.downgraded == 3 and tier_of(db, idle_gold) == "classic"


def test_calendar_year_evaluation_keeps_last_years_status(programme, engine, hooked):
    db = programme.db
    last_year, this_year, lapsed = member(programme, tier="gold"), member(programme), member(programme, tier="gold")
    record_activity(db, last_year, datetime(2024, 3, 1, tzinfo=timezone.utc), nights=26)
    record_activity(db, this_year, datetime(2025, 2, 1, tzinfo=timezone.utc), nights=12)
    record_activity(db, lapsed, datetime(2023, 12, 1, tzinfo=timezone.utc), nights=26)
    db.commit()
    run(engine, hooked, settings={"lps.tiers.window": "calendar_year"})
    assert [tier_of(db, m) for m in (last_year, this_year, lapsed)] == ["gold", "silver", "silver"]


def test_floor_is_respected_until_it_expires(programme, engine, hooked):
    db = programme.db
    floored, expired = member(programme, tier="diamond"), member(programme, tier="gold")
    diamond_id, gold_id = (db.scalar(select(Tier.id).where(Tier.code == code)) for code in ("diamond", "gold"))
    db.execute(update(Member).where(Member.id == floored).values(tier_floor_id=diamond_id,
                                                                  tier_floor_expires_at=NOW + timedelta(days=1)))
    db.execute(update(Member).where(Member.id == expired).values(tier_floor_id=gold_id,
                                                                  tier_floor_expires_at=NOW - timedelta(days=1)))
    db.commit()
    run(engine, hooked)
    assert (tier_of(db, floored), tier_of(db, expired)) == ("diamond", "silver")


def test_dry_run_changes_nothing(programme, engine, hooked, recorder):
    db = programme.db
    gold, busy = member(programme, tier="gold"), member(programme)
    record_activity(db, busy, NOW, stays=40)
    db.commit()
    result = run(engine, hooked, dry_run=True, settings={"lps.members.dormant_after_months": "1"})
    assert (result.upgraded, result.downgraded, result.dry_run) == (1, 1, True)
    assert sorted(result.changes) == sorted([(gold, "gold", "silver"), (busy, "classic", "diamond")])
    assert (tier_of(db, gold), tier_of(db, busy)) == ("gold", "classic") and recorder.events == []
    assert read(db, select(TierEvaluation.id)) is None and status_of(db, gold) == "active"
    assert "would change 1 up, 1 down" in result.summary()


def test_an_interrupted_run_resumes_after_its_last_member(programme, engine, hooked):
    db = programme.db
    first, second = member(programme, tier="gold"), member(programme, tier="gold")
    db.execute(insert(TierEvaluation).values(run_key="2025", started_at=NOW - timedelta(days=2),
                                             last_member_id=first))
    db.commit()
    result = run(engine, hooked, run_key="2025")
    assert result.resumed_after == first and result.downgraded == 1
    assert (tier_of(db, first), tier_of(db, second)) == ("gold", "silver")
    assert read(db, select(TierChange.created_at).where(TierChange.member_id == second)).day == 13  # its moment
    assert run(engine, hooked, run_key="2025").already_done


def test_lifecycle_marks_dormant_and_closed(programme, engine, hooked):
    db = programme.db
    recent = member(programme, last_activity_at=NOW - timedelta(days=30))
    idle = member(programme, last_activity_at=NOW - timedelta(days=400))
    never = member(programme, last_activity_at=None, approved_at=NOW - timedelta(days=400))
    gone = member(programme, last_activity_at=NOW - timedelta(days=1200))
    sleeping = member(programme, status="dormant", last_activity_at=NOW - timedelta(days=1200))
    settings = {"lps.members.dormant_after_months": "12", "lps.members.close_after_months": "36"}
    result = run(engine, hooked, settings=settings)
    assert (result.dormant, result.closed) == (2, 2)
    assert [status_of(db, m) for m in (recent, idle, never, gone, sleeping)] == [
        "active", "dormant", "dormant", "closed", "closed"]


def test_lifecycle_is_off_by_default(programme, engine, hooked):
    idle = member(programme, last_activity_at=NOW - timedelta(days=4000))
    assert run(engine, hooked).dormant == 0 and status_of(programme.db, idle) == "active"


def test_the_cli_entry_point(programme, engine, hooked, capsys):
    member(programme, tier="gold")
    args = argparse.Namespace(dry_run=False, now="2025-06-15T20:00:00+08:00", batch_size=10, no_progress=True,
                              run_key=None, workers=None)
    assert run_tier_job(JobEnv(engine, hooked), args) == 0
    assert "changed 0 up, 1 down" in capsys.readouterr().out
    with pytest.raises(ValidationFailed, match="offset"):
        parse_now("2025-06-15")
    with pytest.raises(ValidationFailed, match="batch-size"):
        run_tier_job(JobEnv(engine, hooked), argparse.Namespace(**{**vars(args), "batch_size": 0}))
    with pytest.raises(ValidationFailed, match="workers"):
        run_tier_job(JobEnv(engine, hooked), argparse.Namespace(**{**vars(args), "workers": 0}))


# --- floors and purchases ------------------------------------------------------------------------

def test_a_floor_raises_the_member_at_once(programme, hooked, recorder):
    member_id = member(programme)
    result = tiers.set_tier_floor(programme.db, hooked, member_id, "gold", NOW + timedelta(days=90), now=NOW)
    assert (result.change.new_tier, result.change.reason) == ("gold", "floor")
    assert recorder.events == [(member_id, "classic", "gold")]
    assert tiers.set_tier_floor(programme.db, hooked, member_id, "silver", NOW + timedelta(days=9), now=NOW).change is None
    assert tier_of(programme.db, member_id) == "gold"
    with pytest.raises(Unprocessable, match="future"):
        tiers.set_tier_floor(programme.db, hooked, member_id, "gold", NOW - timedelta(days=1), now=NOW)
    with pytest.raises(Unprocessable, match="'platinum' does not exist"):
        tiers.set_tier_floor(programme.db, hooked, member_id, "platinum", NOW + timedelta(days=1), now=NOW)


def test_buying_a_higher_tier_with_points(programme, hooked, recorder):
    db = programme.db
    member_id = member(programme, tier="silver")
    with pytest.raises(InsufficientBalance, match="costs 30000 points; the member has 0"):
        tiers.purchase_tier(db, hooked, member_id, "gold", "buy-1", now=NOW)
    db.rollback()
    give_points(programme, member_id, 35000, "earn-1")
    result = tiers.purchase_tier(db, hooked, member_id, "gold", "buy-1", now=NOW)
    db.commit()
    assert (result.tier, result.points, result.points_balance, result.replayed) == ("gold", 30000, 5000, False)
    assert tier_of(db, member_id) == "gold" and recorder.events == [(member_id, "silver", "gold")]
    assert changes_of(db, member_id) == [("purchase", None)]
    again = tiers.purchase_tier(db, hooked, member_id, "gold", "buy-1", now=NOW)
    assert again.replayed and again.points_balance == 5000
    with pytest.raises(Conflict, match="another purchase"):
        tiers.purchase_tier(db, hooked, member_id, "diamond", "buy-1", now=NOW)
    with pytest.raises(Conflict, match="only a higher tier"):
        tiers.purchase_tier(db, hooked, member_id, "silver", "buy-2", now=NOW)
    with pytest.raises(Unprocessable, match="cannot be bought"):
        tiers.purchase_tier(db, hooked, member(programme), "silver", "buy-3", now=NOW)


# --- API -----------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def tier_app(wsgi_app, database_url):
    """The app with the tier routes: the standard one once lps_core.tiers is included by main()."""
    from pyramid.config import Configurator
    from pyramid.interfaces import IRoutesMapper

    if wsgi_app.registry.getUtility(IRoutesMapper).get_route("api.tiers") is not None:
        return wsgi_app
    from lps_core.settings import apply_environment

    settings = apply_environment({**TEST_SETTINGS, "sqlalchemy.url": database_url, "lps.api.key_cache_seconds": "0"})
    with Configurator(settings=settings) as config:
        config.include("pyramid_chameleon")
        config.include("lps_core.db")
        config.include("lps_core.outlets")
        config.include("lps_core.http")
        config.include("lps_core.tiers")
    return config.make_wsgi_app()


@pytest.fixture
def api(tier_app, programme):
    from webtest import TestApp

    key = programme.api_key()  # every scope, tiers.manage among them
    return TestApp(tier_app, extra_environ={"HTTP_AUTHORIZATION": f"Bearer {key}"})


def test_api_lists_tiers_with_benefits_and_qualification(api):
    body = api.get("/api/v1/tiers").json
    assert (body["model"], body["window"]) == ("points_threshold", "rolling_12_months")
    gold = body["tiers"][2]
    assert gold["benefits"] == {"multiplier": "1.500", "discount_rate": "0.1000", "entitlements": ["late checkout"]}
    assert gold["qualification"] == {"nights": 25, "spend": "5000.00", "points": 20000}
    assert gold["purchase_points"] == 30000 and body["tiers"][0]["qualification"] is None


def test_api_member_tier_shows_progress(api, programme):
    member_id = member(programme, tier="silver")
    record_activity(programme.db, member_id, datetime.now(timezone.utc), nights=20, spend_cents=100000)
    programme.db.commit()
    body = api.get(f"/api/v1/members/{member_id}/tier").json
    assert body["tier"]["code"] == "silver" and body["floor"] is None
    assert body["activity"] == {"points": 0, "spend": "1000.00", "nights": 20, "stays": 0, "bills": 0}
    assert body["next_tier"] == {"tier": {"code": "gold", "name": "Gold", "rank": 2},
                                 "needs": {"nights": 5, "spend": "4000.00", "points": 20000}, "mode": "any",
                                 "progress": 0.8}
    assert api.get("/api/v1/members/999999/tier", status=404).json["fields"] == {"id": "no such member"}


def test_api_purchase_and_floor(api, programme):
    member_id = member(programme, tier="silver")
    url = f"/api/v1/members/{member_id}/tier-purchase"
    refused = api.post_json(url, {"tier": "gold", "purchase_no": "P1"}, status=409).json
    assert refused["code"] == "insufficient_balance" and "tier" in refused["fields"]
    give_points(programme, member_id, 30000, "earn-api")
    bought = api.post_json(url, {"tier": "gold", "purchase_no": "P1"}, status=201).json
    assert (bought["tier"], bought["points_balance"]) == ("gold", 0)
    assert api.post_json(url, {"tier": "gold", "purchase_no": "P1"}, status=200).json["replayed"] is True
    floor = api.post_json(f"/api/v1/members/{member_id}/tier-floor",
                          {"tier": "diamond", "expires_at": "2030-12-31T23:59:59+08:00"}).json
    assert floor == {"member_id": member_id, "floor": {"tier": "diamond", "expires_at": "2030-12-31T15:59:59Z"},
                     "tier": "diamond", "raised": True}
    assert api.get(f"/api/v1/members/{member_id}/tier").json["floor"]["active"] is True


@pytest.mark.parametrize(("path", "body", "status", "field"), [
    ("tier-purchase", {"purchase_no": "P"}, 400, "tier"),
    ("tier-purchase", {"tier": "gold"}, 400, "purchase_no"),
    ("tier-purchase", {"tier": 3, "purchase_no": "P"}, 400, "tier"),
    ("tier-purchase", {"tier": "gold", "purchase_no": "P" * 65}, 400, "purchase_no"),
    ("tier-purchase", {"tier": "gold", "purchase_no": "P", "extra": 1}, 400, "extra"),
    ("tier-purchase", {"tier": "platinum", "purchase_no": "P"}, 422, "tier"),
    ("tier-floor", {"tier": "gold"}, 400, "expires_at"),
    ("tier-floor", {"tier": "gold", "expires_at": "2099-01-01"}, 400, "expires_at"),
    ("tier-floor", {"tier": "gold", "expires_at": "next year"}, 400, "expires_at"),
    ("tier-floor", {"tier": "gold", "expires_at": "2001-01-01T00:00:00Z"}, 422, "expires_at"),
    ("tier-floor", {"tier": "", "expires_at": "2030-01-01T00:00:00Z"}, 400, "tier"),
    ("tier-floor", {"tier": "gold", "expires_at": "2099-01-01T00:00:00Z"}, 422, "expires_at"),
])
def test_api_validates_every_field(api, programme, path, body, status, field):
    member_id = member(programme)
    answer = api.post_json(f"/api/v1/members/{member_id}/{path}", body, status=status).json
    assert field in answer["fields"]


def test_api_needs_the_right_scope(api, programme):
    member_id = member(programme)
    key = programme.api_key(scopes=("members",))
    answer = api.post_json(f"/api/v1/members/{member_id}/tier-floor",
                           {"tier": "gold", "expires_at": "2030-01-01T00:00:00Z"},
                           headers={"Authorization": f"Bearer {key}"}, status=403).json
    assert answer["fields"] == {"Authorization": "lacks scope tiers.manage"}
    api.get("/api/v1/tiers", headers={"Authorization": "Bearer nope"}, status=401)
    api.post_json("/api/v1/members/abc/tier-purchase", {"tier": "gold", "purchase_no": "P"}, status=404)
