"""The rewards catalogue and redemption of points for rewards at the desk."""


def includeme(config):
    """The rewards API routes (lps_core.rewards.views), added as the views are written."""
