"""Tiers: qualification, immediate upgrades, annual re-evaluation, floors, purchases, lifecycle."""
from zope.interface import Attribute

from lps_core.interfaces import ITierModel


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


def includeme(config):
    """The tier API: GET /api/v1/tiers, GET /api/v1/members/{id}/tier, POST .../tier-purchase and
    POST .../tier-floor. Checks the tier settings at start-up."""
    from lps_core.tiers.services import tier_model

    plugins = config.registry.get("lps.plugins")
    if plugins is not None:
        tier_model(plugins, config.get_settings())
    config.add_route("api.tiers", "/api/v1/tiers")
    config.add_route("api.member_tier", "/api/v1/members/{id}/tier")
    config.add_route("api.member_tier_purchase", "/api/v1/members/{id}/tier-purchase")
    config.add_route("api.member_tier_floor", "/api/v1/members/{id}/tier-floor")
    config.scan("lps_core.tiers.views")
