"""`lps jobs tiers` moving tiers and lifecycle in the same run: a member can go down a level and
become dormant or closed at once, dormant members keep their tier, both databases give the same
result and the dry run predicts it."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from lps_core.cards.models import Card
from lps_core.db import get_session_factory, run_in_transaction
from lps_core.members.models import Member, Tier
from lps_core.plugins import load_plugins
from lps_core.tiers.jobs import evaluate_tiers
from lps_core.errors import Conflict
from lps_core.tiers.models import TierChange, TierEvaluation

NOW = datetime(2025, 6, 15, 12, tzinfo=timezone.utc)
DAY = timedelta(days=1)
LIFECYCLE = {"lps.members.dormant_after_months": "12", "lps.members.close_after_months": "36"}


class JobEnv:
    def __init__(self, engine, plugins, **settings):
        self.settings = settings
        self.session_factory = get_session_factory(engine)
        self.plugins = plugins

    def transaction(self, work):
        return run_in_transaction(self.session_factory, work)


@pytest.fixture
def plugins():
    return load_plugins({"lps.plugins.disabled": "lps_messages"})


def member(seed, tier=None, **values) -> int:
    member_id = seed.db.scalar(select(Card.member_id).where(Card.card_no == seed.member_card(tier=tier)))
    if values:
        seed.db.execute(update(Member).where(Member.id == member_id).values(**values))
    seed.db.commit()
    return member_id


def state(db, member_ids):
    rows = db.execute(select(Member.id, Tier.code, Member.status).outerjoin(Tier, Tier.id == Member.tier_id)
                      .where(Member.id.in_(member_ids))).all()
    changes = db.execute(select(TierChange.member_id).where(TierChange.reason == "evaluation")
                         .order_by(TierChange.member_id)).scalars().all()
    db.commit()
    return {row.id: (row.code, row.status) for row in rows}, changes


def test_tier_and_lifecycle_move_together(seed, engine, plugins):
    busy_gold = member(seed, tier="gold", last_activity_at=NOW - 30 * DAY)
    idle_gold = member(seed, tier="gold", last_activity_at=NOW - 400 * DAY)  # down a level and dormant
    gone_silver = member(seed, tier="silver", last_activity_at=NOW - 1200 * DAY)  # down a level and closed
    sleeping_gold = member(seed, tier="gold", status="dormant", last_activity_at=NOW - 500 * DAY)  # left alone
    lost_gold = member(seed, tier="gold", status="dormant", last_activity_at=NOW - 1200 * DAY)  # closed, keeps gold
    suspended = member(seed, tier="gold", status="suspended", last_activity_at=NOW - 1200 * DAY)
    everyone = [busy_gold, idle_gold, gone_silver, sleeping_gold, lost_gold, suspended]
    env = JobEnv(engine, plugins, **LIFECYCLE)
    seed.db.commit()

    dry = evaluate_tiers(env, now=NOW, dry_run=True, batch_size=2)
    result = evaluate_tiers(env, now=NOW, batch_size=2)

    tiers, changes = state(seed.db, everyone)
    assert tiers == {busy_gold: ("silver", "active"), idle_gold: ("silver", "dormant"),
                     gone_silver: ("classic", "closed"), sleeping_gold: ("gold", "dormant"),
                     lost_gold: ("gold", "closed"), suspended: ("gold", "suspended")}
    assert changes == sorted([busy_gold, idle_gold, gone_silver])
    assert (result.upgraded, result.downgraded, result.dormant, result.closed) == (0, 3, 1, 2)
    assert (dry.upgraded, dry.downgraded, dry.dormant, dry.closed) == (0, 3, 1, 2)
    again = evaluate_tiers(env, now=NOW + DAY, batch_size=10)
    assert (again.downgraded, again.dormant, again.closed) == (1, 0, 0)  # only the active member is evaluated
    assert state(seed.db, everyone)[0][gone_silver] == ("classic", "closed")


def test_a_member_who_earned_as_the_batch_began_is_judged_on_the_new_state(seed, engine, plugins, monkeypatch):
    """An earning committed just before the batch's statement (it moved the member's tier and
    activity) is what the statement sees: no downgrade logged for them, and no dormancy."""
    moved = member(seed, tier="gold", last_activity_at=NOW - 400 * DAY)
    other = member(seed, tier="gold", last_activity_at=NOW - 400 * DAY)
    classic = seed.db.scalar(select(Tier.id).where(Tier.code == "classic"))
    seed.db.commit()
    from lps_core.tiers import jobs

    real_tune = jobs.tune_for_aggregates

    def earning_moves_the_member_first(db):
        real_tune(db)
        db.execute(update(Member).where(Member.id == moved).values(tier_id=classic, last_activity_at=NOW))

    monkeypatch.setattr(jobs, "tune_for_aggregates", earning_moves_the_member_first)
    result = evaluate_tiers(JobEnv(engine, plugins, **LIFECYCLE), now=NOW)

    tiers, changes = state(seed.db, [moved, other])
    assert tiers[other] == ("silver", "dormant") and changes == [other]
    assert tiers[moved][1] == "active"  # active again: not made dormant on stale data
    assert (result.downgraded, result.dormant) == (1, 1)


def test_a_batch_whose_position_another_process_moved_rolls_back(seed, engine, plugins, monkeypatch):
    """Another process running the same run key moved the evaluation's position while this batch
    worked (here the batch's own transaction stands in for it): the batch rolls back with a conflict
    rather than lower its members a second level."""
    golds = [member(seed, tier="gold", last_activity_at=NOW - 30 * DAY) for _ in range(3)]
    from lps_core.tiers import jobs

    real_evaluate = jobs._evaluate_tiers_in_batch

    def another_process_moves_the_run_on(db, plan, after, upto):
        if after == 0:  # the first batch only: two batches updating one row would wait on each other
            db.execute(update(TierEvaluation).values(last_member_id=1))
        return real_evaluate(db, plan, after, upto)

    monkeypatch.setattr(jobs, "_evaluate_tiers_in_batch", another_process_moves_the_run_on)
    with pytest.raises(Conflict, match="another process"):
        evaluate_tiers(JobEnv(engine, plugins, **LIFECYCLE), now=NOW, batch_size=2)
    tiers, changes = state(seed.db, golds)
    assert set(tiers.values()) == {("gold", "active")} and changes == []
    assert seed.db.scalar(select(TierEvaluation.last_member_id)) == 0
