"""The "points_threshold" tier model: a member reaches the highest tier whose threshold they meet.

`qualify(activity, tiers)` takes:
- activity: a mapping of counters over the qualification window: points, spend_cents, nights,
  stays (a missing counter counts as 0, other keys are ignored);
- tiers: the programme's tiers ordered from lowest to highest, each a mapping or an object with
  `code` and `threshold`, a mapping from counter to the minimum that qualifies, for example
  {"points": 5000} or {"nights": 25, "spend_cents": 500000}. Any one counter reaching its minimum
  is enough. The lowest tier is where everyone starts, so its threshold is ignored and may be left
  out; every other tier needs a threshold of non-negative integers.

It returns the code of the highest tier met. A higher tier may be met while a lower one is not
(30 nights but few points), so every tier is checked, not only up to the first one missed.
A malformed tier raises ValueError naming it.
"""
from collections.abc import Mapping

from zope.interface import implementer

from lps_core import hookimpl
from lps_core.interfaces import ITierModel

COUNTERS = ("points", "spend_cents", "nights", "stays")


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


def _meets(activity, threshold) -> bool:
    return any((activity.get(counter) or 0) >= minimum for counter, minimum in threshold.items())


@implementer(ITierModel)
class PointsThresholdModel:
    name = "points_threshold"

    def qualify(self, activity, tiers):
        if not tiers:
            raise ValueError("there are no tiers to qualify for")
        codes = [_field(tier, "code") for tier in tiers]
        if not all(isinstance(code, str) and code for code in codes):
            raise ValueError(f"every tier needs a code, got {codes!r}")
        qualified = codes[0]
        for tier, code in zip(tiers[1:], codes[1:]):
            if _meets(activity, _threshold(tier, code)):
                qualified = code
        return qualified


@hookimpl
def lps_tier_models():
    return [PointsThresholdModel()]
