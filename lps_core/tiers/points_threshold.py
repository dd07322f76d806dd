"""The "points_threshold" tier model, LPS's default: a member reaches the highest tier whose
threshold they meet.

It ships with LPS and is registered like any plugin, under the name `points_tiers` in the
entry-point group `lps` (setup.cfg), so `lps.plugins.disabled = points_tiers` switches it off
and another plugin can provide a different model for `lps.tiers.model`.

`qualify(activity, tiers)` takes:
- activity: a mapping of counters over the qualification window: points, spend_cents, nights,
  stays (a missing counter counts as 0, other keys are ignored);
- tiers: the programme's tiers ordered from lowest to highest, each a mapping or an object with
  `code` and `threshold`, a mapping from counter to the minimum that qualifies, for example
  {"points": 5000} or {"nights": 25, "spend_cents": 500000}, and optionally `mode`: "any" (the
  default: any one counter reaching its minimum is enough) or "all" (every counter named must reach
  its minimum, e.g. 100 nights and a spend of 23,000.00). The lowest tier is where everyone starts,
  so its threshold is ignored and may be left out; every other tier needs a threshold of
  non-negative integers.

It returns the code of the highest tier met. A higher tier may be met while a lower one is not
(30 nights but few points), so every tier is checked, not only up to the first one missed.
A malformed tier raises ValueError naming it.

The model is set-based too (lps_core.contract.ISetBasedTierModel): `qualified_rank_expression(counters,
tiers)` says the same thing as a SQL CASE over the window's sums, so `lps jobs tiers` evaluates a
batch of members in one statement. There every tier also needs its integer `rank`.
"""
from collections.abc import Mapping

from sqlalchemy import and_, case, literal, or_
from zope.interface import implementer

from lps_core.contract import hookimpl
from lps_core.contract import ISetBasedTierModel

COUNTERS = ("points", "spend_cents", "nights", "stays")
MODES = ("any", "all")


def _field(tier, name):
    if isinstance(tier, Mapping):
        return tier.get(name)
    return getattr(tier, name, None)


def _threshold(tier, code) -> dict:
    threshold = _field(tier, "threshold")
    if not isinstance(threshold, Mapping) or not threshold:
        raise ValueError(f"tier {code!r} needs a threshold on at least one of: {', '.join(COUNTERS)}")
    unknown = sorted(set(threshold) - set(COUNTERS))
    if unknown:
        raise ValueError(f"tier {code!r} has a threshold on unknown counter(s): {', '.join(map(str, unknown))}")
    for counter, minimum in threshold.items():
        if isinstance(minimum, bool) or not isinstance(minimum, int) or minimum < 0:
            raise ValueError(f"tier {code!r}: the {counter} threshold must be a non-negative integer, not {minimum!r}")
    return dict(threshold)


def _mode(tier, code) -> str:
    mode = _field(tier, "mode") or "any"
    if mode not in MODES:
        raise ValueError(f"tier {code!r}: mode must be one of {', '.join(MODES)}, not {mode!r}")
    return mode


def _meets(activity, threshold, mode) -> bool:
    reached = ((activity.get(counter) or 0) >= minimum for counter, minimum in threshold.items())
    return all(reached) if mode == "all" else any(reached)


def _codes(tiers) -> list:
    if not tiers:
        raise ValueError("there are no tiers to qualify for")
    codes = [_field(tier, "code") for tier in tiers]
    if not all(isinstance(code, str) and code for code in codes):
        raise ValueError(f"every tier needs a code, got {codes!r}")
    return codes


def _rank(tier, code) -> int:
    rank = _field(tier, "rank")
    if isinstance(rank, bool) or not isinstance(rank, int):
        raise ValueError(f"tier {code!r} needs an integer rank for set-based evaluation, not {rank!r}")
    return rank


@implementer(ISetBasedTierModel)
class PointsThresholdModel:
    name = "points_threshold"
    set_based = True

    def qualify(self, activity, tiers):
        codes = _codes(tiers)
        qualified = codes[0]
        for tier, code in zip(tiers[1:], codes[1:]):
            if _meets(activity, _threshold(tier, code), _mode(tier, code)):
                qualified = code
        return qualified

    def qualified_rank_expression(self, counters, tiers):
        codes = _codes(tiers)
        entry_rank = _rank(tiers[0], codes[0])
        if len(tiers) == 1:
            return literal(entry_rank)
        whens = []
        for tier, code in reversed(list(zip(tiers[1:], codes[1:]))):  # the highest tier met wins
            reached = [counters[counter] >= minimum for counter, minimum in _threshold(tier, code).items()]
            met = and_(*reached) if _mode(tier, code) == "all" else or_(*reached)
            whens.append((met, _rank(tier, code)))
        return case(*whens, else_=entry_rank)


@hookimpl
def lps_tier_models():
    return [PointsThresholdModel()]
