"""Tier models: deciding a member's tier from what they did in a qualification window."""
from zope.interface import Attribute, Interface


class ITierModel(Interface):
    """Decides a member's tier from what they did in a qualification window."""

    name = Attribute("Unique name, e.g. 'points_threshold'")

    def qualify(activity, tiers):
        """Return the code of the tier that `activity` (a mapping of counters such as points,
        spend_cents, nights, stays) qualifies for, given `tiers` ordered from lowest to highest."""


class ISetBasedTierModel(ITierModel):
    """A tier model that can also answer in SQL, so `lps jobs tiers` evaluates a whole batch of
    members in one statement instead of calling qualify() once per member.

    Optional: the job checks `ISetBasedTierModel.providedBy(model)` and otherwise falls back to
    qualify() per member (correct, but too slow for a million members). Both methods must agree."""

    set_based = Attribute("True: qualified_rank_expression() is implemented")

    def qualified_rank_expression(counters, tiers):
        """Return a SQLAlchemy column expression giving the rank of the tier qualified for.

        `counters` maps each counter (points, spend_cents, nights, stays) to a numeric SQL
        expression: that counter summed over the qualification window, never NULL. `tiers` is what
        qualify() receives (lowest first), each tier also having an integer `rank`. The expression
        must be portable (PostgreSQL and SQLite), e.g. a CASE built with sqlalchemy.case()."""


