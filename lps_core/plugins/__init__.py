"""Plugins: loading and verifying them at start-up (manager), switching what they provide on or off
per outlet (switches), and the API that lists the components and sets their switches (views)."""
from lps_core.plugins.manager import (
    KINDS,
    PROVIDERS,
    SWITCHED_KINDS,
    Component,
    PluginError,
    PluginRegistry,
    load_plugins,
    split_names,
)

__all__ = ["KINDS", "PROVIDERS", "SWITCHED_KINDS", "Component", "PluginError", "PluginRegistry", "load_plugins",
           "plugins_of", "split_names"]

# Plugin objects given by code, not found as entry points: (name, module or object) pairs that a
# test passes to lps_core.main() to install a throwaway plugin. An ini file cannot set it.
EXTRA_PLUGINS = "lps.plugins.extra"


def plugins_of(db) -> PluginRegistry | None:
    """The plugin registry of the application or command whose session `db` is: a request's
    session, or one a command or the worker opened (info "registry" or "environment"); None for a
    bare session. For a service whose callers do not hand it the plugins (a redemption from the
    desk, the portal, an SMS) yet must raise an event hook."""
    request = db.info.get("request")
    registry = request.registry if request is not None else db.info.get("registry")
    if registry is not None:
        from lps_core.components import IPlugins

        return registry.queryUtility(IPlugins)
    environment = db.info.get("environment")  # an `lps` command's (lps_core.cli.Environment)
    return environment.plugins if environment is not None else None


def includeme(config):
    """Loads the plugins: the registry utility IPlugins, request.plugins."""
    from lps_core.components import IPlugins

    settings = config.get_settings()
    extra = settings.get(EXTRA_PLUGINS) or ()
    if isinstance(extra, str):
        raise PluginError(f"{EXTRA_PLUGINS} is given by code (name, object) pairs, not in an ini file")
    config.registry.registerUtility(load_plugins(settings, extra_plugins=extra), IPlugins)
    config.add_request_method(lambda request: request.registry.getUtility(IPlugins), "plugins", reify=True)

