"""Per-outlet plugin switches: a component (a tender, a promotion kind, an exchange partner, a
channel) on or off, with its settings, for the whole programme, a property or one outlet."""
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, DateTime, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lps_core.db.meta import Base

SCOPES = ("programme", "property", "outlet")


class PluginSwitch(Base):
    """The narrowest scope wins: an outlet's row, else its property's, else the programme's, else
    the component's default (on for LPS's own components, off for a third party's)."""

    __tablename__ = "plugin_switches"
    __table_args__ = (
        UniqueConstraint("component_kind", "component_name", "scope", "scope_id"),
        CheckConstraint("scope IN ('programme', 'property', 'outlet')", name="scope"),
        CheckConstraint("(scope = 'programme') = (scope_id = 0)", name="programme_scope_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    component_kind: Mapped[str] = mapped_column(String(20))
    component_name: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(10))
    scope_id: Mapped[int] = mapped_column(Integer)  # the property's or outlet's id; 0 for the programme
    enabled: Mapped[bool | None] = mapped_column(nullable=True)  # None: inherit, only settings given here
    settings: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
