"""The cashier flow: look a card up, settle a bill with mixed tenders, refund it."""


def includeme(config):
    """The cashier API routes (lps_core.cashier.views), added as the views are written."""
