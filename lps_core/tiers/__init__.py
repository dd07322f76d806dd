"""Tiers: qualification, immediate upgrades, annual re-evaluation, floors, purchases, lifecycle."""


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
    from lps_core.tiers.openapi import OPERATIONS, SCHEMAS

    config.add_api_operations(OPERATIONS, SCHEMAS)
    config.scan("lps_core.tiers.views")
