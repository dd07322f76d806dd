"""The webhook screens: the endpoints (URL, events, switch, a secret shown once), each endpoint's
delivery log, one delivery with its body and last answer, and re-sending a delivery. Everything
needs config.manage; changes, which act for the whole programme, an operator of every outlet, and
each is audited."""


def includeme(config):
    config.add_route("webhooks", "/config/webhooks")
    config.add_route("webhooks.new", "/config/webhooks/new")
    config.add_route("webhooks.endpoint", "/config/webhooks/{id:\\d+}")
    config.add_route("webhooks.secret", "/config/webhooks/{id:\\d+}/secret")
    config.add_route("webhooks.delivery", "/config/webhooks/deliveries/{id:\\d+}")
    config.add_route("webhooks.resend", "/config/webhooks/deliveries/{id:\\d+}/resend")
    config.scan("lps_core.screens.webhooks")
