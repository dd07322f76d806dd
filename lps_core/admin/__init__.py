"""Staff screens for configuring the programme (outlets, earning rules, promotions with a preview,
tiers, card types, card number pools, receipt layouts), managing operators, and searching the
audit log. The views are thin: they call the feature services and audit every write."""


def includeme(config):
    config.add_route("config", "/config")
    config.add_route("config.outlets", "/config/outlets")
    config.add_route("config.outlet_new", "/config/outlets/new")
    config.add_route("config.outlet", "/config/outlets/{code}")
    config.add_route("config.rules", "/config/outlets/{code}/rules")
    config.add_route("config.receipt", "/config/outlets/{code}/receipt")
    config.add_route("config.promotions", "/config/promotions")
    config.add_route("config.promotion_new", "/config/promotions/new")
    config.add_route("config.promotion", "/config/promotions/{code}")
    config.add_route("config.promotion_active", "/config/promotions/{code}/active")
    config.add_route("config.preview", "/config/preview")
    config.add_route("config.tiers", "/config/tiers")
    config.add_route("config.tier_order", "/config/tier-order")
    config.add_route("config.tier_new", "/config/tiers/new")
    config.add_route("config.tier", "/config/tiers/{code}")
    config.add_route("config.tier_retire", "/config/tiers/{code}/retire")
    config.add_route("config.card_types", "/config/card-types")
    config.add_route("config.card_type_new", "/config/card-types/new")
    config.add_route("config.card_type", "/config/card-types/{code}")
    config.add_route("config.pools", "/config/pools")
    config.add_route("operators", "/operators")
    config.add_route("operators.new", "/operators/new")
    config.add_route("operators.edit", "/operators/{id:\\d+}")
    config.add_route("operators.password", "/operators/{id:\\d+}/password")
    config.add_route("operators.active", "/operators/{id:\\d+}/active")
    config.add_route("audit", "/audit")
    config.scan("lps_core.admin")
