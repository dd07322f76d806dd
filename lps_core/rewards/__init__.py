"""The rewards catalogue and redemption of points for rewards at the desk."""


def includeme(config):
    """The rewards API: the catalogue under /api/v1/rewards, redemptions under /api/v1/redemptions and
    a card's redemptions."""
    config.add_route("api.rewards", "/api/v1/rewards")
    config.add_route("api.reward", "/api/v1/rewards/{code}")
    config.add_route("api.reward_stock", "/api/v1/rewards/{code}/stock")
    config.add_route("api.redemptions", "/api/v1/redemptions")
    config.add_route("api.redemption", "/api/v1/redemptions/{no}")
    config.add_route("api.redemption_collect", "/api/v1/redemptions/{no}/collect")
    config.add_route("api.redemption_cancel", "/api/v1/redemptions/{no}/cancel")
    config.add_route("api.card_redemptions", "/api/v1/cards/{card_no}/redemptions")
    from lps_core.rewards.openapi import OPERATIONS, SCHEMAS

    config.add_api_operations(OPERATIONS, SCHEMAS)
    config.scan("lps_core.rewards.views")
