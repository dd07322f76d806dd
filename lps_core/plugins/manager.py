"""The plugin manager: entry-point discovery, blocking by setting, settings validation and
interface verification.

Everything that can be wrong with a plugin is found here, at start-up, and reported with the
plugin's name, so that a cashier never meets a broken plugin in the middle of a transaction. LPS's
own tenders, promotion kinds, receipt templates, listeners and tier model are plugins of the
distribution "lps", found through the same entry-point group as a third party's.
"""
from dataclasses import dataclass, field
from importlib.metadata import entry_points

import pluggy
from pydantic import ValidationError
from zope.interface.exceptions import Invalid
from zope.interface.verify import verifyObject

from lps_core.contract import hookspecs
from lps_core.contract.drivers import ICardReaderDriver
from lps_core.contract.earning import IEarningFormula
from lps_core.contract.exchange import IPointExchange
from lps_core.contract.messages import INotificationChannel
from lps_core.contract.pinpad import IPinPadDriver
from lps_core.contract.promotions import IPromotionKind
from lps_core.contract.settings import SettingsDeclaration
from lps_core.contract.tenders import ITender
from lps_core.contract.tiers import ITierModel
from lps_core.errors import ConfigurationError
from lps_core.settings import settings_of

ENTRY_POINT_GROUP = "lps"
CORE_DISTRIBUTION = "lps"

# provider hook -> (component kind, interface its objects provide); every object is named by `name`
PROVIDERS = {
    "lps_earning_formulas": ("formula", IEarningFormula),
    "lps_tier_models": ("tier_model", ITierModel),
    "lps_tenders": ("tender", ITender),
    "lps_promotion_kinds": ("promotion_kind", IPromotionKind),
    "lps_point_exchanges": ("exchange", IPointExchange),
    "lps_notification_channels": ("channel", INotificationChannel),
    "lps_card_readers": ("card_reader", ICardReaderDriver),
    "lps_pin_pads": ("pin_pad", IPinPadDriver),
}
KINDS = {kind: hook for hook, (kind, _) in PROVIDERS.items()}
# Kinds that staff switch on or off per outlet (lps_core.plugins.switches); the others are chosen
# by name where they are used (an outlet's rule names its formula, the programme its tier model).
SWITCHED_KINDS = ("tender", "promotion_kind", "exchange", "channel")


class PluginError(ConfigurationError):
    pass


@dataclass(frozen=True)
class Component:
    """An object a plugin provides, with where it comes from."""

    kind: str
    name: str
    obj: object
    plugin: str
    distribution: str

    @property
    def from_core(self) -> bool:
        return self.distribution == CORE_DISTRIBUTION


@dataclass
class PluginRegistry:
    """The loaded plugins and the verified components they provide; a registry utility (IPlugins)."""

    pm: pluggy.PluginManager
    components: dict = field(default_factory=dict)  # kind -> {name: Component}
    distributions: dict = field(default_factory=dict)  # plugin name -> distribution name
    options: dict = field(default_factory=dict)  # plugin name -> its validated ProgrammeSettings
    switches: object = None  # lps_core.plugins.switches.SwitchBook, set by includeme

    @property
    def hook(self):
        return self.pm.hook

    def of_kind(self, kind) -> dict:
        """{name: provided object} of one kind, e.g. of_kind("tender")."""
        return {name: component.obj for name, component in self.components.get(kind, {}).items()}

    def component(self, kind, name) -> Component | None:
        return self.components.get(kind, {}).get(name)

    @property
    def formulas(self):
        return self.of_kind("formula")

    @property
    def tier_models(self):
        return self.of_kind("tier_model")

    @property
    def tenders(self):
        return self.of_kind("tender")

    @property
    def promotion_kinds(self):
        return self.of_kind("promotion_kind")

    @property
    def channels(self):
        return self.of_kind("channel")

    @property
    def card_readers(self):
        return self.of_kind("card_reader")

    @property
    def pin_pads(self):
        return self.of_kind("pin_pad")

    @property
    def point_exchanges(self):
        return self.of_kind("exchange")

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
    distributions = {}
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
        distributions[ep.name] = _dist_name(ep)
    for name, plugin in extra_plugins:
        if not pm.is_blocked(name):
            _register(pm, name, plugin)
            distributions[name] = getattr(plugin, "__distribution__", None) or name
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
                          "check the hook name against lps_core/contract/hookspecs.py") from exc
    registry = PluginRegistry(pm, distributions=distributions, options=_plugin_options(pm, settings))
    for hook_name in PROVIDERS:
        _collect(registry, hook_name, settings)
    from lps_core.plugins.switches import SwitchBook  # it reads outlets, whose package loads plugins

    registry.switches = SwitchBook(registry, settings_of(settings).rules_cache_seconds)
    return registry


def _register(pm, name, plugin):
    try:
        pm.register(plugin, name=name)
    except (pluggy.PluginValidationError, ValueError) as exc:
        raise PluginError(f"plugin {name!r} could not be registered: {exc}") from exc


def _dist_name(ep):
    return ep.dist.name if ep.dist is not None else "unknown distribution"


def _plugin_options(pm, settings) -> dict:
    """Each plugin's declared programme-wide settings, validated; errors name the plugin and key."""
    options = {}
    for impl in pm.hook.lps_settings.get_hookimpls():
        declaration = impl.function()
        if not isinstance(declaration, SettingsDeclaration):
            raise PluginError(f"plugin {impl.plugin_name!r}: lps_settings must return a SettingsDeclaration")
        given = {key[len(declaration.prefix):]: value for key, value in settings.items()
                 if key.startswith(declaration.prefix)}
        try:
            options[impl.plugin_name] = declaration.model.model_validate(given)
        except ValidationError as exc:
            error = exc.errors()[0]
            key = declaration.prefix + ".".join(str(part) for part in error["loc"])
            if error["type"] == "extra_forbidden":
                raise PluginError(f"plugin {impl.plugin_name!r}: {key} is not a setting of this plugin") from None
            raise PluginError(f"plugin {impl.plugin_name!r}: {key}: {error['msg']}") from None
    return options


def _collect(registry, hook_name, settings):
    """Call a provider hook plugin by plugin, so each object is verified with its plugin's name."""
    kind, interface = PROVIDERS[hook_name]
    caller = getattr(registry.pm.hook, hook_name)
    found = registry.components.setdefault(kind, {})
    for impl in caller.get_hookimpls():
        plugin_name = impl.plugin_name
        args = {"settings": settings, "options": registry.options.get(plugin_name)}
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
            name = obj.name
            if name in found:
                raise PluginError(
                    f"{interface.__name__} {name!r} is provided by both {found[name].plugin!r} and {plugin_name!r}"
                )
            found[name] = Component(kind, name, obj, plugin_name, registry.distributions.get(plugin_name, plugin_name))
