"""Plugins: loading and verifying them at start-up (manager), and switching what they provide on
or off per outlet (switches)."""
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
           "split_names"]


def includeme(config):
    from lps_core.components import IPlugins

    config.registry.registerUtility(load_plugins(config.get_settings()), IPlugins)
    config.add_request_method(lambda request: request.registry.getUtility(IPlugins), "plugins", reify=True)
