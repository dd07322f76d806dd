"""Cards and card products: numbers, types, status, PINs, stored value, uses and credit lines."""


def includeme(config):
    """The card API routes (lps_core.cards.views), added as the views are written."""
