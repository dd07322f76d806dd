"""LPS, a loyalty programme system: the Pyramid application factory.

Plugins import only lps_core.contract: `from lps_core.contract import hookimpl`.
"""


def main(global_config, **settings):
    """The WSGI application, built from PasteDeploy settings (config/*.ini)."""
    from pyramid.config import Configurator

    from lps_core.components import IPlugins
    from lps_core.settings import apply_environment

    with Configurator(settings=apply_environment(settings)) as config:
        config.include("pyramid_chameleon")
        config.include("lps_core.db")
        config.include("lps_core.audit")
        config.include("lps_core.plugins")
        config.include("lps_core.outlets")
        config.include("lps_core.api")
        config.include("lps_core.earning")
        config.include("lps_core.tiers")
        config.include("lps_core.cards")
        config.include("lps_core.cashier")
        config.include("lps_core.vouchers")
        config.include("lps_core.exchange")
        config.include("lps_core.rewards")
        config.include("lps_core.receipts")
        config.include("lps_core.web")
        config.include("lps_core.members")
        config.include("lps_core.desk")
        config.include("lps_core.admin")
        config.registry.getUtility(IPlugins).hook.lps_includeme(config=config)
    return config.make_wsgi_app()
