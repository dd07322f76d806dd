"""Outlets and the earning programme they use, and the plugins' settings stored for them: loaded and
checked once, at start-up."""


def includeme(config):
    # Imported here: this package's models are imported by the features that includeme loads.
    from lps_core.components import IPlugins, IProgramme, ISettings, require
    from lps_core.db import run_in_transaction
    from lps_core.earning.programme import Programme
    from lps_core.outlets.services import check_outlet_formulas
    from lps_core.plugins.switches import check_stored_settings

    settings = require(config.registry, ISettings, "lps_core.outlets")
    plugins = require(config.registry, IPlugins, "lps_core.outlets")
    config.registry.registerUtility(Programme.from_settings(settings), IProgramme)
    config.add_request_method(lambda request: request.registry.getUtility(IProgramme), "programme", reify=True)
    if settings.check_outlets_on_start:
        def check(db):
            check_outlet_formulas(db, plugins)
            check_stored_settings(db, plugins)

        run_in_transaction(config.registry["dbsession_factory"], check)
