"""The tables analytics owns.

Each member's region (province and city), derived from the normalised phone number's prefix when
it is written (lps_core.analytics.regions), so that a region breakdown is a GROUP BY instead of
decrypting every member's phone number (lps_core.pii). It names an area, never the number: it is
not personal data in itself.

The nightly RFM scoring (lps_core.analytics.scoring): the programme's scores as of a day's end,
kept so that the RFM screen and a segment's quadrants read them instead of ranking every member
three times while someone waits."""
from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Date, DateTime, ForeignKey, Index, SmallInteger, String
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


class RfmScoring(Base):
    """One scoring of every member as of `as_of`'s end in lps.timezone, over a trailing window of
    `window_months`. It is complete once `cells` is written, in the transaction of its scores."""

    __tablename__ = "rfm_scorings"

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[date] = mapped_column(Date)
    window_months: Mapped[int] = mapped_column(SmallInteger)
    scored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    members: Mapped[int] = mapped_column(BigInteger, default=0)
    # Members and spend per (quadrant, r, f, m): at most 125 [quadrant, r, f, m, members, spend]
    cells: Mapped[list | None] = mapped_column(JSON(none_as_null=True))


class RfmScore(Base):
    """A member's scores in one scoring, and their place in their quadrant's list (by spend in the
    window, highest first, then member id), so that a page of the list is a range of the index.

    No foreign keys: the rows are written whole, from members' own rows, in the statement that
    scores them, and dropped with their scoring; checking them took 13 of the 25 s of a scoring at
    1,000,000 members."""

    __tablename__ = "rfm_scores"
    __table_args__ = (Index("ix_rfm_scores_scoring_id_quadrant_place", "scoring_id", "quadrant", "place", unique=True,
                            postgresql_include=["member_id"]),)

    scoring_id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(primary_key=True)
    quadrant: Mapped[str] = mapped_column(String(8))
    place: Mapped[int] = mapped_column()
    r: Mapped[int] = mapped_column(SmallInteger)
    f: Mapped[int] = mapped_column(SmallInteger)
    m: Mapped[int] = mapped_column(SmallInteger)
    visits: Mapped[int] = mapped_column(BigInteger)
    spend: Mapped[int] = mapped_column(BigInteger)  # cents
    last_visit: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# The indexes segments and analytics read members' behaviour by (migrations 0041, 0044), on the earn
# path's tables: declared here, as lps_core.reports.models declares the reports', so that the
# schema the migrations build equals the models'. The GIN index on the bills' item lines (jsonb
# since 0048) is PostgreSQL's alone: its info names the dialect, for the schema comparison.
BEHAVIOUR_INDEXES = (
    Index("ix_member_activity_member_id_month", MemberActivity.__table__.c.member_id,
          MemberActivity.__table__.c.month, postgresql_include=["bills", "stays", "spend_cents", "points", "nights"]),
    Index("ix_bills_outlet_id_occurred_at_member_id", Bill.__table__.c.outlet_id, Bill.__table__.c.occurred_at,
          Bill.__table__.c.member_id),
    Index("ix_bills_items_jsonb", Bill.__table__.c["items"], postgresql_using="gin",
          postgresql_ops={"items": "jsonb_path_ops"},
          postgresql_where=Bill.__table__.c["items"].is_not(None),
          info={"dialect": "postgresql"}).ddl_if(dialect="postgresql"),
)
