"""Promotion kinds: what a promotion does to a bill (multiply its points, add a bonus, reward a
first stay...). Staff create promotions of a kind, with the kind's parameters; the core does the
window, outlet, tier, card-type, weekday and product filters, the caps and the stacking."""
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from zope.interface import Attribute, Interface


@dataclass(frozen=True)
class PromotionContext:
    """A bill as a promotion kind evaluates it: the BillInput, the member's MemberContext, the points
    so far (exact, a Decimal), whether the chain is rounded once (`exact`), and `facts`, which answers
    questions about the member's history (is_first_bill(promotion), period_spend_cents(...))."""

    bill: Any
    member: Any
    points: Decimal
    exact: bool
    facts: Any
    rounding: str = "floor"


class IPromotionKind(Interface):
    name = Attribute("The kind as promotions name it, e.g. 'multiplier'")
    label = Attribute("A short name for staff screens")
    on_bill = Attribute("True when it is evaluated on bills (False: granted by an event such as enrolment)")

    def validate_params(params):
        """Return the cleaned parameters; raise ValueError naming the bad parameter."""

    def evaluate(promotion, context):
        """The bonus points (an int, or an exact Decimal when context.exact) this promotion gives the
        bill before caps; 0 when it does not apply."""

    def explain(promotion, bonus):
        """One breakdown line's description of what the promotion gave."""
