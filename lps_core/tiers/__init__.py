"""Tiers: qualification, immediate upgrades, annual re-evaluation, floors, purchases, lifecycle, and
the programme's tiers as configuration."""


def includeme(config):
    """The tier API: the programme's tiers (list, create, change, reorder, retire), a member's tier,
    buying a tier and staff floors. Checks the tier settings at start-up, and registers the
    programme's tier look-up as ITierLookup, the interface through which earning reads tiers."""
    from lps_core.components import IPlugins, IProgramme, ISettings, ITierLookup, require
    from lps_core.tiers.services import tier_model

    plugins = require(config.registry, IPlugins, "lps_core.tiers")
    tier_model(plugins, require(config.registry, ISettings, "lps_core.tiers"))
    config.registry.registerUtility(require(config.registry, IProgramme, "lps_core.tiers").tiers, ITierLookup)
    config.add_route("api.tiers", "/api/v1/tiers")
    config.add_route("api.tier_order", "/api/v1/tier-order")
    config.add_route("api.tier", "/api/v1/tiers/{code}")
    config.add_route("api.tier_retire", "/api/v1/tiers/{code}/retire")
    config.add_route("api.member_tier", "/api/v1/members/{id}/tier")
    config.add_route("api.member_tier_purchase", "/api/v1/members/{id}/tier-purchase")
    config.add_route("api.member_tier_floor", "/api/v1/members/{id}/tier-floor")
    from lps_core.tiers.openapi import OPERATIONS, SCHEMAS

    config.add_api_operations(OPERATIONS, SCHEMAS)
    config.scan("lps_core.tiers.views")
