"""Cards and card products: numbers, types, status, PINs, stored value, uses and credit lines."""


def includeme(config):
    """The card API: card type configuration (/api/v1/card-types), selling anonymous cards, and a
    card's status, replacement, PIN and renewal (/api/v1/cards/{card_no}/...)."""
    config.add_route("api.card_types", "/api/v1/card-types")
    config.add_route("api.card_type", "/api/v1/card-types/{code}")
    config.add_route("api.card_anonymous", "/api/v1/cards/anonymous", request_method="POST")
    config.add_route("api.card_status", "/api/v1/cards/{card_no}/status")
    config.add_route("api.card_replace", "/api/v1/cards/{card_no}/replace")
    config.add_route("api.card_pin", "/api/v1/cards/{card_no}/pin")
    config.add_route("api.card_renew", "/api/v1/cards/{card_no}/renew")

    from lps_core.cards.openapi import OPERATIONS, SCHEMAS

    config.add_api_operations(OPERATIONS, SCHEMAS)
    config.scan("lps_core.cards.views")
