"""Import batches and their previewed rows.

A batch is one uploaded file of one kind, recognised by the SHA-256 of its bytes, so the same file
sent twice finds its first batch. Its rows are what the preview showed: each row's action (add,
change, unchanged, conflict, error), what stands in its way, the operator's resolution and the
`basis` (a hash of the record it was compared with) that tells a stale preview at confirm. The
row's values and its diff hold personal data, so they are kept in one encrypted payload, which
confirm decrypts only for the rows that need their values."""
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, DateTime, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lps_core.db.meta import Base
from lps_core.pii import EncryptedText

MEMBERS, CARDS, POINTS = "members", "cards", "points"
KINDS = (MEMBERS, CARDS, POINTS)

PREVIEWED, APPLYING, APPLIED, STALE, DISCARDED = "previewed", "applying", "applied", "stale", "discarded"
BATCH_STATUSES = (PREVIEWED, APPLYING, APPLIED, STALE, DISCARDED)

ADD, CHANGE, UNCHANGED, CONFLICT, ERROR = "add", "change", "unchanged", "conflict", "error"
ACTIONS = (ADD, CHANGE, UNCHANGED, CONFLICT, ERROR)

# A row's resolution: skip it, apply it as previewed (a conflict: the file's row wins), or, for a
# row that matches several records, apply it to the one chosen ("target:<id>").
SKIP, APPLY = "skip", "apply"
TARGET = "target:"


class ImportBatch(Base):
    __tablename__ = "import_batches"
    __table_args__ = (
        CheckConstraint("kind IN ('members', 'cards', 'points')", name="kind"),
        CheckConstraint("status IN ('previewed', 'applying', 'applied', 'stale', 'discarded')", name="status"),
        CheckConstraint("file_format IN ('csv', 'xlsx', 'json')", name="file_format"),
        UniqueConstraint("kind", "content_hash", name="uq_import_batches_kind_content_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    file_name: Mapped[str] = mapped_column(String(200))
    file_format: Mapped[str] = mapped_column(String(4))
    content_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(10))
    total_rows: Mapped[int] = mapped_column(default=0)
    counts: Mapped[dict] = mapped_column(JSON, default=dict)  # rows by action, as previewed
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(100))
    previewed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    confirmed_by: Mapped[str | None] = mapped_column(String(100))
    # Confirm applies the rows in row order, a chunk per transaction: every row up to this number is done.
    applied_through: Mapped[int] = mapped_column(default=0)
    applied_rows: Mapped[int] = mapped_column(default=0)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    stale_reason: Mapped[str | None] = mapped_column(String(500))


class ImportRow(Base):
    __tablename__ = "import_rows"
    __table_args__ = (
        CheckConstraint("action IN ('add', 'change', 'unchanged', 'conflict', 'error')", name="action"),
        UniqueConstraint("batch_id", "row_no", name="uq_import_rows_batch_row"),
        Index("ix_import_rows_batch_action", "batch_id", "action", "row_no"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id"))
    row_no: Mapped[int] = mapped_column()  # the line of a CSV (the header is line 1), the sheet row, the item + 1
    action: Mapped[str] = mapped_column(String(9))
    base_action: Mapped[str | None] = mapped_column(String(9))  # what a conflict row does once resolved
    target_id: Mapped[int | None] = mapped_column()  # the member or card changed
    problems: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))  # errors by field, or the conflict
    resolution: Mapped[str | None] = mapped_column(String(24))
    basis: Mapped[str | None] = mapped_column(String(64))
    # A member row's phone number as its blind index (a keyed hash, as members.phone_index holds
    # it): confirm finds whether a new member's number was taken since without decrypting the row.
    blind_index: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(EncryptedText)  # JSON: the row's values, its diff, the candidates
