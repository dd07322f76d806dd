"""The configuration hub: links to each configuration screen, and the installed plugins."""
from pyramid.view import view_config

from lps_core.operators.permissions import Permission


@view_config(route_name="config", renderer="lps_core.screens.config:templates/config.pt",
             permission=Permission.CONFIG_MANAGE)
def config_hub(request):
    plugins = request.plugins
    return {"plugins": plugins.plugin_names(), "formulas": sorted(plugins.formulas),
            "tier_models": sorted(plugins.tier_models), "templates": sorted(request.receipt_templates)}
