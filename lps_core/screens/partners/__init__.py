"""The staff screens of partners and franchise stores: the list with a form to create one, a
partner's page (standing, outlets, contract versions, manual adjustments, statements), and a
statement with its lines, its exports (CSV, XLSX, a printable page) and the close button."""


def includeme(config):
    config.add_route("partners", "/partners")
    config.add_route("partners.view", "/partners/{code}")
    config.add_route("partners.standing", "/partners/{code}/standing")
    config.add_route("partners.contracts", "/partners/{code}/contracts")
    config.add_route("partners.contract_withdraw", "/partners/{code}/contracts/{id:\\d+}/withdraw")
    config.add_route("partners.adjustments", "/partners/{code}/adjustments")
    config.add_route("partners.statement", "/partners/{code}/statement")
    config.add_route("partners.close", "/partners/{code}/statement/close")
    config.add_static_view("partners-static", "lps_core.screens.partners:static", cache_max_age=3600)
    config.scan("lps_core.screens.partners.views")
