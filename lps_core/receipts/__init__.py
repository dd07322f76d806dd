"""Printable receipts of settlements: per-outlet layouts rendered by Chameleon templates."""


def includeme(config):
    """Load the receipt templates (LPS's and plugins'), then add the receipt routes."""
    from lps_core.components import IPlugins, require
    from lps_core.receipts.template_registry import MACROS_SPEC, load_receipt_templates, load_template

    settings = config.get_settings()
    plugins = require(config.registry, IPlugins, "lps_core.receipts")
    config.registry["lps.receipt_templates"] = load_receipt_templates(plugins, settings)
    config.registry["lps.receipt_macros"] = load_template(MACROS_SPEC)
    config.add_route("api.receipt_layout", "/api/v1/outlets/{code}/receipt-layout")
    config.add_route("api.settlement_receipt", "/api/v1/settlements/{id}/receipt")
    config.add_route("api.settlement_receipt_prints", "/api/v1/settlements/{id}/receipt/prints")

    from lps_core.receipts.openapi import OPERATIONS, SCHEMAS

    config.add_api_operations(OPERATIONS, SCHEMAS)
    config.scan("lps_core.receipts.views")
