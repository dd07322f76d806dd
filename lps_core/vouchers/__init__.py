"""Vouchers: issued with a face value and a validity, taken once by a settlement's voucher tender."""


def includeme(config):
    """The vouchers API under /api/v1/vouchers."""
    config.add_route("api.vouchers", "/api/v1/vouchers")
    config.add_route("api.voucher", "/api/v1/vouchers/{code}")
    config.add_route("api.voucher_void", "/api/v1/vouchers/{code}/void")
    from lps_core.vouchers.openapi import OPERATIONS, SCHEMAS

    config.add_api_operations(OPERATIONS, SCHEMAS)
    config.scan("lps_core.vouchers.views")
