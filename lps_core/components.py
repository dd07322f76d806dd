"""The application's shared components, registered and found by interface in the Pyramid registry
(`registry.registerUtility(obj, IFoo)`, `registry.getUtility(IFoo)`), never by string keys.

Each is registered by the package that builds it, in its includeme; a component used while the
configuration is still being built (at include time) is asserted there, so a wrong include order
stops start-up with a message instead of a KeyError."""
from zope.interface import Attribute, Interface


class ISettings(Interface):
    """The typed, frozen Settings of lps_core.settings, read once at start-up from the ini file and the environment."""


class IPlugins(Interface):
    """The PluginRegistry of lps_core.plugins: loaded plugins, what they provide, per-outlet switches."""


class IProgramme(Interface):
    """The earning Programme of lps_core.earning.programme: rules, promotions, tiers, expiry, limits."""


class ITierLookup(Interface):
    """What earning asks of the tiers, so that earning depends on this and not on lps_core.tiers,
    which implements it (lps_core.tiers.lookup.TierLookup, the Programme's `tiers`). A tier here is
    any object with `code` and `multiplier`."""

    bill_earns_at_new_tier = Attribute("lps.tiers.upgrade_bill_earns_at = new: a bill that lifts its member "
                                       "to a higher tier earns at that tier")

    def all(db):
        """The programme's tiers in use, lowest first (cached for lps.rules.cache_seconds)."""

    def held_at(db, member_id, moment):
        """(True, the tier or None) when the member's tier changed after `moment`, so that a
        back-dated bill earns at the tier of its own date; (False, None) when it has not changed."""

    def reached_by_bill(db, plugins, member_id, moment, tiers, counters):
        """The tier of `tiers` (as all() gives them) above the member's that a bill not yet recorded,
        with `counters` (points, spend_cents, nights, stays), lifts them to; None if none."""

    def window(moment):
        """(start, end) dates of the qualification window that counts at `moment`, whose activity
        the bill's own statement reads back for the upgrade check."""


class IApiKeys(Interface):
    """The ApiKeyChecker of lps_core.apikeys: verified keys, cached for lps.api.key_cache_seconds."""


class IReceiptTemplates(Interface):
    """The receipt templates by name ({name: compiled template}), from lps_receipt_templates."""


class IReceiptMacros(Interface):
    """The compiled macros shared by receipt templates."""


class ILabels(Interface):
    """The Labels of codes shown on screens (lps_core.labels)."""


def require(registry, interface, needed_by):
    """The component, or a start-up error that says which include must come first."""
    component = registry.queryUtility(interface)
    if component is None:
        raise AssertionError(f"{needed_by} needs {interface.__name__}: include the package that registers it first")
    return component
