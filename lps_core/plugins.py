"""The plugin manager: entry-point discovery, blocking by setting, and interface verification.

Everything that can be wrong with a plugin is found here, at start-up, and reported with the
plugin's name, so that a cashier never meets a broken plugin in the middle of a transaction.
"""
from dataclasses import dataclass, field
from importlib.metadata import entry_points

import pluggy
from zope.interface.exceptions import Invalid
from zope.interface.verify import verifyObject

from lps_core import hookspecs
from lps_core.errors import ConfigurationError
from lps_core.interfaces import (
    ICardReaderDriver,
    IEarningFormula,
    INotificationChannel,
    IPointExchange,
    ITierModel,
)

ENTRY_POINT_GROUP = "lps"

# provider hook -> (interface its objects provide, attribute that names them)
PROVIDERS = {
    "lps_earning_formulas": (IEarningFormula, "name"),
    "lps_tier_models": (ITierModel, "name"),
    "lps_notification_channels": (INotificationChannel, "name"),
    "lps_card_readers": (ICardReaderDriver, "name"),
    "lps_point_exchanges": (IPointExchange, "partner"),
}


class PluginError(ConfigurationError):
    pass


@dataclass
class PluginRegistry:
    """The loaded plugins and the verified objects they provide, kept in the Pyramid registry."""

    pm: pluggy.PluginManager
    provided: dict = field(default_factory=dict)  # hook name -> {object name: object}

    @property
    def hook(self):
        return self.pm.hook

    @property
    def formulas(self):
        return self.provided["lps_earning_formulas"]

    @property
    def tier_models(self):
        return self.provided["lps_tier_models"]

    @property
    def channels(self):
        return self.provided["lps_notification_channels"]

    @property
    def card_readers(self):
        return self.provided["lps_card_readers"]

    @property
    def point_exchanges(self):
        return self.provided["lps_point_exchanges"]

    def formula(self, name) -> IEarningFormula:
        try:
            return self.formulas[name]
        except KeyError:
            known = ", ".join(sorted(self.formulas)) or "none"
            raise PluginError(f"no plugin provides the earning formula {name!r} (installed: {known})")

    def plugin_names(self):
        return sorted(name for name, plugin in self.pm.list_name_plugin() if plugin is not None)


def split_names(value) -> list[str]:
    if not value:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return value.replace(",", " ").split()


def load_plugins(settings, extra_plugins=()) -> PluginRegistry:
    """Build the plugin manager from the entry-point group `lps` plus `extra_plugins` (name, object).

    Settings: `lps.plugins.disabled` lists plugin names to block; `lps.plugins.required` lists names
    that must be present (a missing one stops start-up)."""
    pm = pluggy.PluginManager("lps")
    pm.add_hookspecs(hookspecs)
    for name in split_names(settings.get("lps.plugins.disabled")):
        pm.set_blocked(name)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if pm.is_blocked(ep.name) or pm.has_plugin(ep.name):
            continue
        try:
            plugin = ep.load()
        except Exception as exc:
            raise PluginError(
                f"plugin {ep.name!r} ({ep.value}, from {_dist_name(ep)}) could not be loaded: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        _register(pm, ep.name, plugin)
    for name, plugin in extra_plugins:
        if not pm.is_blocked(name):
            _register(pm, name, plugin)
    missing = [name for name in split_names(settings.get("lps.plugins.required")) if not pm.has_plugin(name)]
    if missing:
        raise PluginError(f"required plugin(s) not installed or disabled: {', '.join(missing)} (lps.plugins.required)")
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        name = pm.get_name(exc.plugin) or repr(exc.plugin)
        unknown = [impl.name for impl in pm.get_hookcallers(exc.plugin) or ()
                   if impl.spec is None and impl.name.startswith("lps_")]
        raise PluginError(f"plugin {name!r} implements an unknown hook {', '.join(unknown)}: "
                          "check the hook name against lps_core/hookspecs.py") from exc
    return PluginRegistry(pm, {hook: _collect(pm, hook, settings) for hook in PROVIDERS})


def _register(pm, name, plugin):
    try:
        pm.register(plugin, name=name)
    except (pluggy.PluginValidationError, ValueError) as exc:
        raise PluginError(f"plugin {name!r} could not be registered: {exc}") from exc


def _dist_name(ep):
    return ep.dist.name if ep.dist is not None else "unknown distribution"


def _collect(pm, hook_name, settings) -> dict:
    """Call a provider hook plugin by plugin, so each object is verified with its plugin's name."""
    interface, name_attr = PROVIDERS[hook_name]
    caller = getattr(pm.hook, hook_name)
    args = {"settings": settings}
    objects, owners = {}, {}
    for impl in caller.get_hookimpls():
        plugin_name = impl.plugin_name
        try:
            provided = impl.function(*[args[arg] for arg in impl.argnames]) or []
        except Exception as exc:
            raise PluginError(f"plugin {plugin_name!r} failed in {hook_name}: {type(exc).__name__}: {exc}") from exc
        for obj in provided:
            try:
                verifyObject(interface, obj)
            except Invalid as exc:
                raise PluginError(
                    f"plugin {plugin_name!r} returned from {hook_name} an object that does not provide "
                    f"{interface.__name__}: {exc}"
                ) from exc
            key = getattr(obj, name_attr)
            if key in objects:
                raise PluginError(
                    f"{interface.__name__} {key!r} is provided by both {owners[key]!r} and {plugin_name!r}"
                )
            objects[key], owners[key] = obj, plugin_name
    return objects
