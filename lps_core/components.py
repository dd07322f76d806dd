"""The application's shared components, registered and found by interface in the Pyramid registry
(`registry.registerUtility(obj, IFoo)`, `registry.getUtility(IFoo)`), never by string keys.

Each is registered by the package that builds it, in its includeme; a component used while the
configuration is still being built (at include time) is asserted there, so a wrong include order
stops start-up with a message instead of a KeyError."""
from zope.interface import Interface


class IPlugins(Interface):
    """The PluginRegistry of lps_core.plugins: loaded plugins, what they provide, per-outlet switches."""


class IProgramme(Interface):
    """The earning Programme of lps_core.earning.programme: rules, promotions, tiers, expiry, limits."""


class IApiKeys(Interface):
    """The API key cache of lps_core.apikeys."""


class IReceiptTemplates(Interface):
    """The receipt templates by name ({name: compiled template}), from lps_receipt_templates."""


class IReceiptMacros(Interface):
    """The compiled macros shared by receipt templates."""


class ILabels(Interface):
    """The labels of codes shown on screens (lps_core.web.labels)."""


def require(registry, interface, needed_by):
    """The component, or a start-up error that says which include must come first."""
    component = registry.queryUtility(interface)
    if component is None:
        raise AssertionError(f"{needed_by} needs {interface.__name__}: include the package that registers it first")
    return component
