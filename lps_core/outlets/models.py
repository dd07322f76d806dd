"""Properties (hotels), partner merchants and their outlets."""
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lps_core.db.meta import Base


class Property(Base):
    """A hotel of the group, a partner merchant (kind = 'partner') or a franchise store (kind =
    'franchise').

    status: 'active'; 'suspended' (its outlets post nothing until it is active again); 'ended' (it
    left the programme: its history stays, its outlets post nothing, and the points its members
    earned there remain valid everywhere else). `exchange_component` names the IPointExchange
    component through which a partner's own programme converts points, if any."""

    __tablename__ = "properties"
    __table_args__ = (
        CheckConstraint("kind IN ('hotel', 'partner', 'franchise')", name="kind"),
        CheckConstraint("status IN ('active', 'suspended', 'ended')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default="hotel")
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")
    joined_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    exchange_component: Mapped[str | None] = mapped_column(String(64))
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
