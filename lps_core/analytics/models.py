"""The one table analytics owns: each member's region (province and city), derived from the
normalised phone number's prefix when it is written (lps_core.analytics.regions), so that a
region breakdown is a GROUP BY instead of decrypting every member's phone number (lps_core.pii).
It names an area, never the number: it is not personal data in itself."""
from sqlalchemy import ForeignKey, Index, String, cast
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from lps_core.db.meta import Base
from lps_core.earning.models import Bill
from lps_core.members.models import MemberActivity


class MemberRegion(Base):
    __tablename__ = "member_regions"
    __table_args__ = (Index("ix_member_regions_province_city", "province", "city"),)

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    province: Mapped[str] = mapped_column(String(32))
    city: Mapped[str | None] = mapped_column(String(32))


# The indexes segments and analytics read members' behaviour by (migrations 0041, 0044), on the earn
# path's tables: declared here, as lps_core.reports.models declares the reports', so that the
# schema the migrations build equals the models'. The GIN index on the bills' item lines is
# PostgreSQL's alone and lives in the migration only (an expression index, which neither SQLite
# nor the schema comparison knows).
BEHAVIOUR_INDEXES = (
    Index("ix_member_activity_member_id_month", MemberActivity.__table__.c.member_id,
          MemberActivity.__table__.c.month, postgresql_include=["bills", "stays", "spend_cents", "points", "nights"]),
    Index("ix_bills_outlet_id_occurred_at_member_id", Bill.__table__.c.outlet_id, Bill.__table__.c.occurred_at,
          Bill.__table__.c.member_id),
    Index("ix_bills_items_jsonb", cast(Bill.__table__.c["items"], JSONB).label("items_jsonb"), postgresql_using="gin",
          postgresql_ops={"items_jsonb": "jsonb_path_ops"},
          postgresql_where=Bill.__table__.c["items"].is_not(None)).ddl_if(dialect="postgresql"),
)
