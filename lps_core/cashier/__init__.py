"""The cashier flow: look a card up, settle a bill with mixed tenders, refund it, and put value
(deposits, uses, repayments) on a card at the till."""


def includeme(config):
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
