"""The main navigation of the staff screens: each entry shows only to operators whose roles grant
its permission, and only once its screen is installed (its route exists)."""
from dataclasses import dataclass

from pyramid.interfaces import IRoutesMapper

from lps_core.i18n import _
from lps_core.operators.permissions import Permission
from lps_core.screens.shared import dgettext


@dataclass(frozen=True)
class NavItem:
    route: str
    label: object  # a TranslationString of the `lps` domain, or of the screen's own
    permission: Permission


NAV = (
    NavItem("home", _("Dashboard"), Permission.VIEW_DASHBOARD),
    NavItem("cashier", _("Cashier"), Permission.CASHIER_SETTLE),
    NavItem("members", _("Members"), Permission.MEMBERS_VIEW),
    NavItem("members.enrol", _("Enrol"), Permission.MEMBERS_ENROL),
    NavItem("members.approvals", _("Approvals"), Permission.MEMBERS_APPROVE),
    NavItem("appeals", _("Appeals"), Permission.MEMBERS_VIEW),
    NavItem("reports", dgettext("lps_reports", "Reports"), Permission.REPORTS_VIEW),
    NavItem("analytics", dgettext("lps_analytics", "Analytics"), Permission.REPORTS_VIEW),
    NavItem("rewards.desk", _("Rewards"), Permission.REWARDS_REDEEM),
    NavItem("exchange", dgettext("lps_exchange", "Exchanges"), Permission.REPORTS_VIEW),
    NavItem("marketing", dgettext("lps_marketing", "Marketing"), Permission.PROMOTIONS_MANAGE),
    NavItem("coupons", dgettext("lps_config", "Coupons"), Permission.COUPONS_MANAGE),
    NavItem("partners", dgettext("lps_partners", "Partners"), Permission.PARTNERS_MANAGE),
    NavItem("config", _("Configuration"), Permission.CONFIG_MANAGE),
    NavItem("config.messages", dgettext("lps_messages", "Messages"), Permission.CONFIG_MANAGE),
    NavItem("webhooks", dgettext("lps_webhooks", "Webhooks"), Permission.CONFIG_MANAGE),
    NavItem("terminals", dgettext("lps_config", "Terminals"), Permission.CONFIG_MANAGE),
    NavItem("operators", _("Operators"), Permission.OPERATORS_MANAGE),
    NavItem("audit", _("Audit log"), Permission.AUDIT_VIEW),
    NavItem("bulk", dgettext("lps_bulk", "Data exchange"), Permission.DATA_EXPORT),
)


def nav_items(request) -> list[NavItem]:
    if request.identity is None or request.identity.must_change_password:
        return []
    mapper = request.registry.getUtility(IRoutesMapper)
    return [item for item in NAV if mapper.get_route(item.route) is not None and request.has_permission(item.permission)]


def current_item(request, items) -> NavItem | None:
    """The entry of the page being shown: the one whose route is the longest dotted prefix of the
    page's route ("members.view" belongs to "members"), so at most one entry is marked."""
    route = request.matched_route.name if request.matched_route else ""
    matches = [item for item in items if route == item.route or route.startswith(item.route + ".")]
    return max(matches, key=lambda item: len(item.route), default=None)
