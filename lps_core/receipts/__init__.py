"""Printable receipts of settlements: per-outlet layouts rendered by Chameleon templates."""


def includeme(config):
    """The receipt routes (lps_core.receipts.views), added as the views are written."""
