"""The terminals screens: card-reading terminals registered per outlet (a name, the cashiers whose
screens they feed, a key shown once) and revoked (config.manage, within the operator's outlets,
audited); and the cashier screen's poll for its swipes (cashier.settle, the outlet in scope)."""


def includeme(config):
    config.add_route("terminals", "/config/terminals")
    config.add_route("terminals.new", "/config/terminals/new")
    config.add_route("terminals.edit", "/config/terminals/{id:\\d+}")
    config.add_route("terminals.revoke", "/config/terminals/{id:\\d+}/revoke")
    config.add_route("cashier.swipes", "/cashier/swipes")
    config.scan("lps_core.screens.terminals")
