"""Every permission a staff screen can require, in one place."""
from enum import StrEnum


class Permission(StrEnum):
    VIEW_DASHBOARD = "dashboard.view"
