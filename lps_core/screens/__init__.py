"""The staff screens: the shell (layout, session, security policy, lists, sign-in), the helpers
every screen shares (shared.py), and one package per area: the desk, the configuration screens
the member screens, appeals, webhooks and point exchanges. Services never import from here."""


def includeme(config):
    config.include("lps_core.screens.shell")
    config.include("lps_core.screens.desk")
    config.include("lps_core.screens.config")
    config.include("lps_core.screens.members")
    config.include("lps_core.screens.appeals")
    config.include("lps_core.screens.exchange")
    config.include("lps_core.screens.bulk")
    config.include("lps_core.screens.webhooks")
    config.include("lps_core.screens.reports")
    config.include("lps_core.screens.analytics")
    config.include("lps_core.screens.partners")
    config.include("lps_core.screens.terminals")
    config.include("lps_core.screens.marketing")
    config.include("lps_core.screens.coupons")
