"""The one table analytics owns: each member's region (province and city), derived from the
normalised phone number's prefix when it is written (lps_core.analytics.regions), so that a
region breakdown is a GROUP BY instead of decrypting every member's phone number (lps_core.pii).
It names an area, never the number: it is not personal data in itself."""
from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from lps_core.db.meta import Base


class MemberRegion(Base):
    __tablename__ = "member_regions"
    __table_args__ = (Index("ix_member_regions_province_city", "province", "city"),)

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    province: Mapped[str] = mapped_column(String(32))
    city: Mapped[str | None] = mapped_column(String(32))
