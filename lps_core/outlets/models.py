"""Properties (hotels), partner merchants and their outlets."""
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lps_core.db.meta import Base


class Property(Base):
    """A hotel of the group, or a partner merchant (kind = 'partner')."""

    __tablename__ = "properties"
    __table_args__ = (CheckConstraint("kind IN ('hotel', 'partner')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default="hotel")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    outlets: Mapped[list["Outlet"]] = relationship(back_populates="property")


class Outlet(Base):
    """A place where members spend. Its earning rules (formula plugin, parameters, bands) are
    versioned in earning_rules."""

    __tablename__ = "outlets"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    property_id: Mapped[int] = mapped_column(ForeignKey("properties.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    property: Mapped[Property] = relationship(back_populates="outlets")
