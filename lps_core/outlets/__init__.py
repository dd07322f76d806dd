"""Outlets, the plugins and the earning programme they use: loaded and checked once, at start-up."""


def includeme(config):
    # Imported here: this package's models are imported by the features that includeme loads.
    from lps_core.db import run_in_transaction
    from lps_core.earning.programme import Programme
    from lps_core.outlets.services import check_outlet_formulas
    from lps_core.plugins import load_plugins

    settings = config.get_settings()
    plugins = load_plugins(settings)
    config.registry["lps.plugins"] = plugins
    config.registry["lps.programme"] = Programme.from_settings(settings)
    if settings.get("lps.check_outlets_on_start", "true").lower() not in ("false", "0", "no"):
        run_in_transaction(config.registry["dbsession_factory"], lambda db: check_outlet_formulas(db, plugins))
