"""LPS, a loyalty programme system: the Pyramid application factory.

Plugins import only lps_core.contract: `from lps_core.contract import hookimpl`.
"""


# Included first, in this order: each registers what the next ones need at include time (the typed
# settings, the database, the audit trail, the plugins, the programme, the API's directive), and
# `require` stops start-up with a message when one is missing.
PLATFORM = ("lps_core.settings", "pyramid_chameleon", "lps_core.db", "lps_core.audit", "lps_core.plugins",
            "lps_core.outlets", "lps_core.http")
# The features, in any order: they find each other's components by interface, at request time.
FEATURES = ("lps_core.tiers", "lps_core.cashier", "lps_core.receipts", "lps_core.screens", "lps_core.portal",
            "lps_core.sms", "lps_core.messages")


def main(global_config, **settings):
    """The WSGI application, built from PasteDeploy settings (config/*.ini)."""
    return make_app(settings, FEATURES)


def make_app(settings, features):
    """The WSGI application of `settings` with the platform and then `features` included."""
    from pyramid.config import Configurator

    from lps_core.components import IPlugins
    from lps_core.request_class import bake_request_properties

    with Configurator(settings=settings) as config:
        for package in PLATFORM + tuple(features):
            config.include(package)
        config.registry.getUtility(IPlugins).hook.lps_includeme(config=config)
    bake_request_properties(config.registry)
    return config.make_wsgi_app()
