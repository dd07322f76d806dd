"""The JSON API under /api/v1: the contract that websites, tills and partner systems code against."""
from lps_core.api.operations import ApiOperations, IApiOperations, add_api_operations


def includeme(config):
    config.include("lps_core.apikeys")
    config.registry.registerUtility(ApiOperations(), IApiOperations)
    config.add_directive("add_api_operations", add_api_operations)
    config.add_route("api.openapi", "/api/v1/openapi.json")
    config.add_route("api.members", "/api/v1/members")
    config.add_route("api.member_approve", "/api/v1/members/{id}/approve")
    # GET only, so that POST /api/v1/cards/anonymous (lps_core.cards) reaches its own route.
    config.add_route("api.card", "/api/v1/cards/{card_no}", request_method="GET")
    config.add_route("api.card_ledger", "/api/v1/cards/{card_no}/ledger")
    config.add_route("api.transactions", "/api/v1/transactions")
    config.add_route("api.transaction", "/api/v1/transactions/{id}")
    config.add_route("api.transaction_reversal", "/api/v1/transactions/{id}/reversal")

    from lps_core.api.openapi import OPERATIONS, SCHEMAS

    config.add_api_operations(OPERATIONS, SCHEMAS)
    config.scan("lps_core.api.views")
    config.scan("lps_core.api.errors")
