"""The cashier flow: look a card up, settle a bill with mixed tenders, refund it, and put value
(deposits, uses, repayments) on a card at the till."""


def includeme(config):
    config.add_route("api.cashier_lookup", "/api/v1/cashier/lookup")
    config.add_route("api.settlements", "/api/v1/settlements")
    config.add_route("api.settlement", "/api/v1/settlements/{id}")
    config.add_route("api.settlement_refunds", "/api/v1/settlements/{id}/refunds")
    config.add_route("api.card_deposits", "/api/v1/cards/{card_no}/deposits")
    config.add_route("api.card_uses", "/api/v1/cards/{card_no}/uses")
    config.add_route("api.card_repayments", "/api/v1/cards/{card_no}/credit-repayments")

    from lps_core.cashier.openapi import OPERATIONS, SCHEMAS

    config.add_api_operations(OPERATIONS, SCHEMAS)
    config.scan("lps_core.cashier.views")
    # Once every package and plugin is included: the labels table exists and plugins have added theirs.
    config.action(None, lambda: name_the_tenders(config.registry))


def name_the_tenders(registry):
    """Every tender a plugin provides is named on screens and receipts (`label("tender", kind)`) by
    its own `label`, unless a label was given to its kind already."""
    from lps_core.components import ILabels, IPlugins, require

    labels = require(registry, ILabels, "the tenders' labels")
    named = labels.table.get("tender", {})
    labels.add("tender", {name: tender.label for name, tender in require(registry, IPlugins, "the tenders' labels")
                          .tenders.items() if name not in named})
