"""The JSON API under /api/v1: the contract that websites, tills and partner systems code against.

One module per resource: each adds its routes, declares its operations (which validate its input
and assemble the OpenAPI document) and holds its thin views: authenticate, read the input through
the operation's schema, call a service, shape the JSON. The services live in the feature packages
and never import this package."""
from lps_core.http.operations import ApiOperations, IApiOperations, add_api_operations

RESOURCES = ("openapi", "members", "cards", "transactions", "earning", "cashier", "receipts", "rewards", "tiers",
             "vouchers", "exchange", "plugins", "appeals", "partners", "website", "reports", "analytics",
             "webhooks", "terminals", "bulk", "marketing", "coupons")


def includeme(config):
    config.include("lps_core.apikeys")
    config.registry.registerUtility(ApiOperations(), IApiOperations)
    config.add_directive("add_api_operations", add_api_operations)
    for resource in RESOURCES:
        config.include(f"lps_core.http.{resource}")
    config.scan("lps_core.http.errors")
