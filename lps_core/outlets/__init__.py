"""Outlets and the plugins they use: loaded and checked once, when the application starts."""
from lps_core.db import run_in_transaction
from lps_core.outlets.services import check_outlet_formulas
from lps_core.plugins import load_plugins


def includeme(config):
    settings = config.get_settings()
    plugins = load_plugins(settings)
    config.registry["lps.plugins"] = plugins
    if settings.get("lps.check_outlets_on_start", "true").lower() not in ("false", "0", "no"):
        run_in_transaction(config.registry["dbsession_factory"], lambda db: check_outlet_formulas(db, plugins))
