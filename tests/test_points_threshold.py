"""The points_threshold tier model: the highest tier whose threshold any counter meets."""
from dataclasses import dataclass, field

import pytest
from zope.interface.verify import verifyObject

from lps_core.contract import ITierModel
from lps_core.tiers.points_threshold import PointsThresholdModel

TIERS = [
    {"code": "BLUE"},
    {"code": "SILVER", "threshold": {"points": 5000}},
    {"code": "GOLD", "threshold": {"nights": 25, "spend_cents": 500000}},
    {"code": "PLATINUM", "threshold": {"points": 50000, "stays": 60}},
]


@dataclass
class TierRow:
    code: str
    threshold: dict = field(default_factory=dict)


@pytest.fixture
def model():
    return PointsThresholdModel()


def test_the_model_is_registered_from_its_entry_point(plugins):
    model = plugins.tier_models["points_threshold"]
    assert verifyObject(ITierModel, model)
    assert "points_tiers" in plugins.plugin_names()


@pytest.mark.parametrize(("activity", "expected"), [
    ({}, "BLUE"),
    ({"points": 0, "spend_cents": 0, "nights": 0, "stays": 0}, "BLUE"),
    ({"points": 4999}, "BLUE"),
    ({"points": 5000}, "SILVER"),
    ({"points": 49999, "nights": 24, "spend_cents": 499999}, "SILVER"),
    ({"points": 5000, "nights": 25}, "GOLD"),
    ({"spend_cents": 500000}, "GOLD"),
    ({"nights": 30}, "GOLD"),  # a higher tier met while a lower one is not
    ({"stays": 59, "nights": 100}, "GOLD"),
    ({"stays": 60}, "PLATINUM"),
    ({"points": 50000}, "PLATINUM"),
    ({"points": -200}, "BLUE"),  # reversals can leave a negative window
    ({"points": None, "nights": 25}, "GOLD"),
    ({"points": 10**12, "unrelated": 3}, "PLATINUM"),
])
def test_qualifies_for_the_highest_tier_met(model, activity, expected):
    assert model.qualify(activity, TIERS) == expected


def test_accepts_tier_objects_as_well_as_mappings(model):
    tiers = [TierRow("MEMBER"), TierRow("ELITE", {"stays": 10})]
    assert model.qualify({"stays": 9}, tiers) == "MEMBER"
    assert model.qualify({"stays": 10}, tiers) == "ELITE"


def test_a_single_tier_always_qualifies_whatever_its_threshold(model):
    assert model.qualify({}, [{"code": "ONLY", "threshold": {"points": 100}}]) == "ONLY"


def test_a_zero_threshold_always_qualifies(model):
    tiers = [{"code": "BASE"}, {"code": "WELCOME", "threshold": {"points": 0}}]
    assert model.qualify({}, tiers) == "WELCOME"


@pytest.mark.parametrize(("tiers", "message"), [
    ([], "no tiers"),
    ([{"code": "BASE"}, {"threshold": {"points": 1}}], "needs a code"),
    ([{"code": "BASE"}, {"code": "GOLD"}], "'GOLD' needs a threshold"),
    ([{"code": "BASE"}, {"code": "GOLD", "threshold": {}}], "'GOLD' needs a threshold"),
    ([{"code": "BASE"}, {"code": "GOLD", "threshold": {"night": 25}}], "unknown counter.*night"),
    ([{"code": "BASE"}, {"code": "GOLD", "threshold": {"points": -1}}], "non-negative integer"),
    ([{"code": "BASE"}, {"code": "GOLD", "threshold": {"points": "5000"}}], "non-negative integer"),
    ([{"code": "BASE"}, {"code": "GOLD", "threshold": {"points": True}}], "non-negative integer"),
])
def test_malformed_tiers_are_rejected_with_their_code(model, tiers, message):
    with pytest.raises(ValueError, match=message):
        model.qualify({"points": 10}, tiers)


# --- The set-based form (ISetBasedTierModel), used by `lps jobs tiers` -------------------------------

RANKED = [{**tier, "rank": rank * 10} for rank, tier in enumerate(TIERS)]


def test_the_model_provides_the_set_based_interface(model):
    from lps_core.contract import ISetBasedTierModel

    assert verifyObject(ISetBasedTierModel, model) and model.set_based is True


@pytest.mark.parametrize(("activity", "expected"), [
    ({}, "BLUE"), ({"points": 5000}, "SILVER"), ({"nights": 30}, "GOLD"), ({"spend_cents": 500000}, "GOLD"),
    ({"stays": 60, "points": 1}, "PLATINUM"), ({"points": -5}, "BLUE"),
])
def test_the_sql_expression_agrees_with_qualify(model, activity, expected):
    from sqlalchemy import create_engine, literal, select

    counters = {counter: literal(activity.get(counter, 0)) for counter in ("points", "spend_cents", "nights", "stays")}
    with create_engine("sqlite://").connect() as connection:
        rank = connection.scalar(select(model.qualified_rank_expression(counters, RANKED)))
    assert rank == {tier["code"]: tier["rank"] for tier in RANKED}[expected]
    assert model.qualify(activity, RANKED) == expected


def test_the_sql_expression_needs_ranks_and_valid_thresholds(model):
    from sqlalchemy import literal

    counters = {counter: literal(0) for counter in ("points", "spend_cents", "nights", "stays")}
    with pytest.raises(ValueError, match="'BLUE' needs an integer rank"):
        model.qualified_rank_expression(counters, TIERS)
    with pytest.raises(ValueError, match="unknown counter"):
        model.qualified_rank_expression(counters, [{"code": "A", "rank": 0},
                                                   {"code": "B", "rank": 1, "threshold": {"night": 1}}])
    assert model.qualified_rank_expression(counters, [{"code": "ONLY", "rank": 4}]) is not None
