"""Earning: versioned rules per outlet, promotions, the points pipeline, bills and refunds."""


def includeme(config):
    """The rule and promotion configuration API, and the preview of a hypothetical bill."""
    config.add_route("api.outlet_rules", "/api/v1/outlets/{code}/rules")
    config.add_route("api.promotions", "/api/v1/promotions")
    config.add_route("api.promotion", "/api/v1/promotions/{code}")
    config.add_route("api.preview", "/api/v1/preview")
    from lps_core.earning.openapi import OPERATIONS, SCHEMAS

    config.add_api_operations(OPERATIONS, SCHEMAS)
    config.scan("lps_core.earning.views")
