"""The promotion kind nth_visit: every Nth bill of a member at the promotion's outlets earns a
bonus, e.g. {"every": 5, "points": 200} gives 200 points on the 5th, 10th, 15th... bill.

Bills are counted at the promotion's outlets (at every outlet when it names none), whenever they
were posted; the bill being earned is the next one. LPS does the rest: the promotion's window,
outlets, tiers, card types, weekdays and products, its caps and how it stacks with others, and
whether the kind is switched on at the bill's outlet (it is off until staff switch it on)."""
from zope.interface import implementer

from lps_core.contract import IPromotionKind, hookimpl, parse_positive_int

PARAMETERS = ("every", "points")
MAX_EVERY = 1000
MAX_POINTS = 1_000_000
ORDINAL_SUFFIXES = {1: "st", 2: "nd", 3: "rd"}


@implementer(IPromotionKind)
class NthVisit:
    name = "nth_visit"
    label = "every Nth visit"
    on_bill = True

    def validate_params(self, params):
        unknown = sorted(set(params) - set(PARAMETERS))
        if unknown:
            raise ValueError(f"{unknown[0]} is not a parameter of nth_visit (it takes every and points)")
        for name in PARAMETERS:
            if name not in params:
                raise ValueError(f"{name} is required")
        return {"every": parse_positive_int(params["every"], name="every", minimum=2, maximum=MAX_EVERY),
                "points": parse_positive_int(params["points"], name="points", maximum=MAX_POINTS)}

    def evaluate(self, promotion, context):
        visit = context.facts.bill_count(promotion) + 1
        return promotion.params["points"] if visit % promotion.params["every"] == 0 else 0

    def explain(self, promotion, bonus):
        return f"{promotion.name}: +{bonus} on every {ordinal(promotion.params['every'])} visit"


def ordinal(number: int) -> str:
    suffix = "th" if number % 100 in (11, 12, 13) else ORDINAL_SUFFIXES.get(number % 10, "th")
    return f"{number}{suffix}"


@hookimpl
def lps_promotion_kinds():
    return [NthVisit()]
