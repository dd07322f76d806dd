"""Every permission a staff screen can require, in one place.

A view declares one with `@view_config(..., permission=Permission.X)`; roles.py says which roles
hold it. tests/test_authz.py fails for a staff route that declares none."""
from enum import StrEnum


class Permission(StrEnum):
    VIEW_DASHBOARD = "dashboard.view"
    MEMBERS_VIEW = "members.view"
    MEMBERS_EDIT = "members.edit"
    MEMBERS_ENROL = "members.enrol"
    MEMBERS_APPROVE = "members.approve"
    POINTS_ADJUST = "points.adjust"
    CASHIER_SETTLE = "cashier.settle"
    CASHIER_REFUND = "cashier.refund"
    STORED_VALUE_DEPOSIT = "stored_value.deposit"
    CARDS_MANAGE = "cards.manage"
    REWARDS_REDEEM = "rewards.redeem"
    REWARDS_MANAGE = "rewards.manage"
    PROMOTIONS_MANAGE = "promotions.manage"
    CONFIG_MANAGE = "config.manage"
    OPERATORS_MANAGE = "operators.manage"
    AUDIT_VIEW = "audit.view"
    REPORTS_VIEW = "reports.view"
    # Bulk exchange (lps_core.bulk): exports, exports with personal data decrypted, imports.
    DATA_EXPORT = "data.export"
    DATA_EXPORT_PERSONAL = "data.export_personal"
    DATA_IMPORT = "data.import"
    PARTNERS_MANAGE = "partners.manage"
    COUPONS_MANAGE = "coupons.manage"  # coupon types and issuing coupons (lps_core.coupons)
