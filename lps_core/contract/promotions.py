"""Promotion kinds: what a promotion does to a bill (multiply its points, add a bonus, reward a
first stay...). Staff create promotions of a kind, with the kind's parameters; the core does the
window, outlet, tier, card-type, weekday and product filters, the caps and the stacking, and asks
the kind only what is its own: are these parameters good, what does this bill earn, how is it said.

A kind is switched on or off per outlet like a tender; a promotion of a kind that is off at a
bill's outlet does not apply there."""
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

from zope.interface import Attribute, Interface

# The rule's rounding mode (its `rounding`) as a decimal rounding constant.
ROUNDING_MODES = {"floor": ROUND_FLOOR, "half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN}


@dataclass(frozen=True)
class MemberContext:
    """Who earns: the member (None for a preview without a card), their tier and card type with
    the multipliers those give."""

    member_id: int | None
    tier_code: str | None = None
    tier_multiplier: Decimal = Decimal(1)
    card_type_code: str | None = None
    card_multiplier: Decimal = Decimal(1)


@dataclass(frozen=True)
class PromotionContext:
    """A bill as a promotion kind evaluates it.

    `bill` is the BillInput (None for an event without a bill, such as enrolment); `member` the
    MemberContext of who earns; `points` the points so far, after the bands and the tier and
    card-type multipliers (exact, a Decimal); `exact` says whether the chain carries exact values
    and rounds once at the end; `rounding` is the rule's rounding mode; `facts` answers questions
    about the member's history (IMemberFacts); `level` is, for a bonus passed up a chain of
    members (referral), 1 for the referrer, 2 for the referrer's referrer, and so on."""

    bill: object
    member: MemberContext
    points: Decimal
    exact: bool
    facts: object
    rounding: str = "floor"
    level: int = 1

    def as_points(self, value) -> Decimal | int:
        """`value` as the chain carries it: exact when `exact`, else whole points rounded by the
        rule's rounding mode."""
        value = Decimal(value)
        return value if self.exact else int(value.to_integral_value(rounding=ROUNDING_MODES[self.rounding]))


class IPromotion(Interface):
    """A promotion as a kind sees it (read only)."""

    id = Attribute("Its database id")
    code = Attribute("Its code, unique, e.g. 'WKND2X'")
    name = Attribute("Its name, for staff and members")
    kind = Attribute("The name of its kind")
    params = Attribute("Its parameters, as the kind's validate_params cleaned them (a JSON object)")
    outlets = Attribute("The outlet codes it is limited to (a tuple), or None for every outlet")
    filters_products = Attribute("True when it is limited to some categories or SKUs")

    def line_matches(line):
        """True when a BillLine is of the promotion's categories and SKUs (always, when it names none)."""


class IMemberFacts(Interface):
    """What a promotion kind may ask about the member's history. Each answer costs a query, so a
    kind asks only when the rest of the promotion already matched. Without a member (a preview
    without a card) the answers are those of a member with no history."""

    def is_first_bill(promotion):
        """True when the member has no bill yet at the promotion's outlets (any outlet if it names none)."""

    def bill_count(promotion):
        """How many bills the member had before this one at the promotion's outlets (any outlet if
        it names none); the bill being earned is the next one."""

    def awarded(promotion, moment):
        """The points the promotion gave the member in its cap period holding `moment`."""

    def period_spend_cents(period, moment):
        """The member's spend in cents in the day, month or year holding `moment`."""


class IPromotionKind(Interface):
    """What a kind of promotion does. Kinds with `on_bill` are evaluated on every bill that passes
    a promotion's filters; the others are granted by an event of the core, by name: "enrolment"
    when a member is approved, "referral" on a referred member's bill."""

    name = Attribute("The kind as promotions name it, e.g. 'multiplier'")
    label = Attribute("A short name for staff screens (a str, or a TranslationString of the plugin's domain)")
    on_bill = Attribute("True when it is evaluated on bills (False: granted by an event such as enrolment)")

    def validate_params(params):
        """Return the cleaned parameters (a JSON object, stored with the promotion); raise ValueError
        whose message starts with the bad parameter's name, e.g. "points must be at least 1"."""

    def evaluate(promotion, context):
        """The bonus points this promotion gives in `context` (a PromotionContext) before its caps:
        an int, or an exact Decimal when context.exact (context.as_points does both); 0 when the
        bill does not qualify (too small, not the member's first...)."""

    def explain(promotion, bonus):
        """The description of the breakdown line that shows what the promotion gave (`bonus`
        points), one sentence for staff and members, e.g. "Weekend: x2"."""
