"""Printable receipts of settlements, earn-only bills, card movements, redemptions and refunds:
per-outlet layouts rendered by Chameleon templates, and thermal printers."""


def includeme(config):
    """Load the receipt templates (LPS's and plugins') as IReceiptTemplates and their shared macros
    as IReceiptMacros (`request.receipt_templates`, `request.receipt_macros`)."""
    from lps_core.components import IPlugins, IReceiptMacros, IReceiptTemplates, require
    from lps_core.receipts.document_printing import DOCUMENT_TEMPLATES, document_macros, document_template
    from lps_core.receipts.template_registry import MACROS_SPEC, load_receipt_templates, load_template

    plugins = require(config.registry, IPlugins, "lps_core.receipts")
    config.registry.registerUtility(load_receipt_templates(plugins, config.get_settings()), IReceiptTemplates)
    config.registry.registerUtility(load_template(MACROS_SPEC), IReceiptMacros)
    for paper in DOCUMENT_TEMPLATES:  # compiled now, so a broken one stops the server, not the till
        document_template(paper)
    document_macros()
    config.add_request_method(lambda request: request.registry.getUtility(IReceiptTemplates), "receipt_templates",
                              reify=True)
    config.add_request_method(lambda request: request.registry.getUtility(IReceiptMacros), "receipt_macros",
                              reify=True)
