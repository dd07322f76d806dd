"""Tiers: qualification, immediate upgrades, annual re-evaluation, floors, purchases, lifecycle, and
the programme's tiers as configuration."""


def includeme(config):
    """Checks the tier settings at start-up, and registers the programme's tier look-up as
    ITierLookup, the interface through which earning reads tiers."""
    from lps_core.components import IPlugins, IProgramme, ISettings, ITierLookup, require
    from lps_core.tiers.services import tier_model

    plugins = require(config.registry, IPlugins, "lps_core.tiers")
    tier_model(plugins, require(config.registry, ISettings, "lps_core.tiers"))
    config.registry.registerUtility(require(config.registry, IProgramme, "lps_core.tiers").tiers, ITierLookup)
