"""Printable receipts of settlements: per-outlet layouts rendered by Chameleon templates."""


def includeme(config):
    """Load the receipt templates (LPS's and plugins') as IReceiptTemplates and their shared macros
    as IReceiptMacros (`request.receipt_templates`, `request.receipt_macros`), then add the receipt
    routes."""
    from lps_core.components import IPlugins, IReceiptMacros, IReceiptTemplates, require
    from lps_core.receipts.template_registry import MACROS_SPEC, load_receipt_templates, load_template

    plugins = require(config.registry, IPlugins, "lps_core.receipts")
    config.registry.registerUtility(load_receipt_templates(plugins, config.get_settings()), IReceiptTemplates)
    config.registry.registerUtility(load_template(MACROS_SPEC), IReceiptMacros)
    config.add_request_method(lambda request: request.registry.getUtility(IReceiptTemplates), "receipt_templates",
                              reify=True)
    config.add_request_method(lambda request: request.registry.getUtility(IReceiptMacros), "receipt_macros",
                              reify=True)
    config.add_route("api.receipt_layout", "/api/v1/outlets/{code}/receipt-layout")
    config.add_route("api.settlement_receipt", "/api/v1/settlements/{id}/receipt")
    config.add_route("api.settlement_receipt_prints", "/api/v1/settlements/{id}/receipt/prints")

    from lps_core.receipts.openapi import OPERATIONS, SCHEMAS

    config.add_api_operations(OPERATIONS, SCHEMAS)
    config.scan("lps_core.receipts.views")
