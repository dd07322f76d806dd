"""The fixed roles and the permissions each grants.

An operator holds one or more roles; their permissions add up. Roles are code, not data, so the
authorization matrix test can check every role against every screen. What an operator may touch
is further narrowed by their outlet scope (see access.py)."""
from lps_core.operators.permissions import Permission as P

_VIEW = {P.VIEW_DASHBOARD, P.MEMBERS_VIEW}

ROLES: dict[str, frozenset[P]] = {
    "administrator": frozenset(P),
    "outlet_manager": frozenset(_VIEW | {
        P.MEMBERS_EDIT, P.MEMBERS_ENROL, P.MEMBERS_APPROVE, P.POINTS_ADJUST, P.CASHIER_SETTLE,
        P.CASHIER_REFUND, P.STORED_VALUE_DEPOSIT, P.CARDS_MANAGE, P.REWARDS_REDEEM, P.REPORTS_VIEW,
        P.AUDIT_VIEW, P.CONFIG_MANAGE}),
    "cashier": frozenset(_VIEW | {P.CASHIER_SETTLE, P.STORED_VALUE_DEPOSIT, P.REWARDS_REDEEM}),
    "front_desk": frozenset(_VIEW | {
        P.MEMBERS_EDIT, P.MEMBERS_ENROL, P.CARDS_MANAGE, P.STORED_VALUE_DEPOSIT, P.REWARDS_REDEEM}),
    "marketing": frozenset(_VIEW | {P.PROMOTIONS_MANAGE, P.REWARDS_MANAGE, P.REPORTS_VIEW, P.COUPONS_MANAGE}),
    "finance_auditor": frozenset(_VIEW | {P.REPORTS_VIEW, P.AUDIT_VIEW}),
    "hq_analyst": frozenset(_VIEW | {P.REPORTS_VIEW}),
}

# Roles that work across the whole group: an operator holding only these sees every outlet by default.
HQ_ROLES = frozenset({"administrator", "finance_auditor", "hq_analyst"})


def permissions_of(roles) -> frozenset[P]:
    """The union of the permissions of `roles`; unknown role names grant nothing."""
    granted = frozenset()
    for role in roles:
        granted |= ROLES.get(role, frozenset())
    return granted
