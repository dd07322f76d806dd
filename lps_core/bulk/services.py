"""The life of an import batch: preview a file, resolve its conflicts, confirm it, apply it a chunk
per transaction, or discard it.

Why chunks: a confirmed batch is applied in row order, CHUNK rows per transaction, and the batch
records the last row applied (`applied_through`). A chunk is all or nothing, so an interrupted
import (a closed browser, a killed command) resumes at the next chunk and never applies a row twice;
the staff screen shows a progress bar between chunks, and a 100,000-row file never holds the
database (on SQLite: all of it) for the whole import. Confirm first checks every row against the
data as it is then, so a preview that went stale is refused before anything is written; each chunk
checks its own rows again under its transaction, and stops the batch as stale rather than apply a
row to a record that changed meanwhile (the rows before it stay applied, as the batch shows)."""
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Text, delete, func, select, type_coerce, update
from sqlalchemy.exc import IntegrityError

from lps_core.audit.services import record
from lps_core.bulk import cards, members, points
from lps_core.bulk.files import read_table
from lps_core.bulk.models import (
    ADD,
    APPLIED,
    APPLYING,
    CHANGE,
    CONFLICT,
    DISCARDED,
    PREVIEWED,
    SKIP,
    STALE,
    TARGET,
    ImportBatch,
    ImportRow,
)
from lps_core.bulk.rows import CHUNK, ToApply, chunks, effective_action, insert_rows
from lps_core.bulk.schemas import READ_ONLY_COLUMNS, REQUIRED_COLUMNS, ROW_SCHEMAS
from lps_core.errors import Conflict, LpsError, NotFound, Unprocessable, ValidationFailed
from lps_core.pii import keys_of
from lps_core.timeutil import utcnow

KINDS = {"members": members, "cards": cards, "points": points}
ROWS = ImportRow.__table__
SEALED = type_coerce(ROWS.c.payload, Text).label("sealed")  # decrypted by ToApply when its values are needed
STALE_ROWS_NAMED = 5


@dataclass(frozen=True)
class ImportContext:
    content_hash: str
    now: datetime
    programme: object = None  # the points' lots take its expiry policy


def columns_of(kind) -> tuple[str, ...]:
    """The columns an import file of `kind` may have."""
    return tuple(ROW_SCHEMAS[kind].model_fields)


def check_columns(kind, columns) -> None:
    known = set(columns_of(kind)) | set(READ_ONLY_COLUMNS[kind])
    unknown = [column for column in columns if column not in known]
    missing = [column for column in REQUIRED_COLUMNS[kind] if column not in columns]
    if unknown or missing:
        parts = []
        if missing:
            parts.append(f"lacks the column {', '.join(missing)}")
        if unknown:
            parts.append(f"has the unknown column {', '.join(unknown)}")
        required = f" ({', '.join(REQUIRED_COLUMNS[kind])} required)" if REQUIRED_COLUMNS[kind] else ""
        message = f"{' and '.join(parts)}: a {kind} file has the columns {', '.join(columns_of(kind))}{required}"
        raise ValidationFailed(f"the file {message}", {"file": message})


def preview_import(db, *, kind, content: bytes, file_name: str, actor, encoding="utf-8", file_format=None,
                   address=None) -> tuple[ImportBatch, bool]:
    """Read the file and preview it: (the batch, whether the same file was confirmed before). Writes
    the batch and its rows, nothing else. The same file (by its SHA-256) of the same kind finds its
    batch: one confirmed is returned as it is; one not yet confirmed is previewed again, in place,
    against the data as it is now (its resolutions start over)."""
    content_hash = hashlib.sha256(content).hexdigest()
    batch = db.scalar(select(ImportBatch).where(ImportBatch.kind == kind, ImportBatch.content_hash == content_hash)
                      .with_for_update())
    if batch is not None and batch.status in (APPLYING, APPLIED):
        return batch, True
    table = read_table(content, file_name, encoding=encoding, declared=file_format)
    check_columns(kind, table.columns)
    now = utcnow()
    previewed = KINDS[kind].preview(db, table.rows, ImportContext(content_hash, now))
    counts = {}
    for row in previewed:
        counts[row.action] = counts.get(row.action, 0) + 1
    if batch is None:
        batch = ImportBatch(kind=kind, content_hash=content_hash, created_at=now, created_by=actor.name[:100],
                            file_name="", file_format=table.file_format, status=PREVIEWED, previewed_at=now)
        savepoint = db.begin_nested()
        try:
            db.add(batch)
            db.flush()
        except IntegrityError:  # the same file, previewed at this moment by another request
            savepoint.rollback()
            raise Conflict("this file is being previewed by someone else: try again in a moment",
                           {"file": "is being previewed right now"}) from None
        savepoint.commit()
    else:
        db.execute(delete(ImportRow).where(ImportRow.batch_id == batch.id))
    batch.file_name, batch.file_format, batch.status = (file_name or "upload")[:200], table.file_format, PREVIEWED
    batch.total_rows, batch.counts, batch.previewed_at, batch.stale_reason = len(previewed), counts, now, None
    batch.applied_through, batch.applied_rows, batch.confirmed_at, batch.confirmed_by = 0, 0, None, None
    db.flush()
    for chunk in chunks(previewed):
        insert_rows(db, ROWS, [{
            "batch_id": batch.id, "row_no": row.row_no, "action": row.action, "base_action": row.base_action,
            "target_id": row.target_id, "problems": row.problems, "resolution": None, "basis": row.basis,
            "blind_index": row.blind_index, "payload": json.dumps(row.payload, ensure_ascii=False, default=str)}
            for row in chunk])
    record(db, actor=actor, action="bulk.import_preview", target=("import_batch", batch.id), address=address,
           after={"kind": kind, "file_format": table.file_format, "content_hash": content_hash, "rows": len(previewed),
                  **{f"rows_{action}": count for action, count in counts.items()}})
    return batch, False


def get_batch(db, batch_id, *, lock=False) -> ImportBatch:
    query = select(ImportBatch).where(ImportBatch.id == batch_id)
    batch = db.scalar(query.with_for_update() if lock else query)
    if batch is None:
        raise NotFound(f"import batch {batch_id} does not exist", {"batch": "no such import batch"})
    return batch


def rows_page(db, batch, *, action=None, page=1, per_page=50) -> tuple[list[dict], int]:
    """A page of the preview's rows, in file order, with their values and diff decrypted."""
    query = select(ImportRow).where(ImportRow.batch_id == batch.id)
    if action:
        query = query.where(ImportRow.action == action)
    total = db.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.scalars(query.order_by(ImportRow.row_no).limit(per_page).offset((page - 1) * per_page)).all()
    return [row_json(row) for row in rows], total


def row_json(row) -> dict:
    payload = json.loads(row.payload)
    problems = row.problems or {}
    return {"row_no": row.row_no, "action": row.action, "base_action": row.base_action, "target_id": row.target_id,
            "errors": problems.get("errors"), "conflict": problems.get("conflict"), "resolution": row.resolution,
            "values": payload.get("values") or payload.get("raw"), "diff": payload.get("diff"),
            "candidates": payload.get("candidates")}


def resolve(db, batch_id, row_no, resolution, *, actor, address=None) -> ImportRow:
    """Settle a conflict row: skip it, apply it (the file's row wins), or apply it to the record
    chosen (target:<id>). Applying a row of a duplicate group skips the group's other rows."""
    batch = get_batch(db, batch_id, lock=True)
    if batch.status != PREVIEWED:
        raise Conflict(f"import batch {batch_id} is {batch.status}: only a preview is resolved",
                       {"batch": f"is {batch.status}"})
    row = db.scalar(select(ImportRow).where(ImportRow.batch_id == batch.id, ImportRow.row_no == row_no))
    if row is None:
        raise NotFound(f"the batch has no row {row_no}", {"row_no": "no such row"})
    if row.action != CONFLICT:
        raise Unprocessable(f"row {row_no} has no conflict", {"row_no": "has no conflict to resolve"})
    conflict = row.problems["conflict"]
    if resolution not in conflict["options"]:
        raise Unprocessable(f"row {row_no} cannot be resolved with {resolution!r}",
                            {"resolution": f"must be one of {', '.join(conflict['options'])}"})
    row.resolution = resolution
    if conflict["kind"] == "duplicate" and resolution != SKIP:
        others = [number for number in conflict.get("rows", []) if number != row_no]
        db.execute(update(ImportRow).where(ImportRow.batch_id == batch.id, ImportRow.row_no.in_(others))
                   .values(resolution=SKIP))
    record(db, actor=actor, action="bulk.import_resolve", target=("import_batch", batch.id), address=address,
           after={"row_no": row_no, "conflict": conflict["kind"], "resolution": resolution})
    return row


def skip_conflicts(db, batch_id, *, actor, address=None) -> int:
    """Skip every conflict not resolved yet; how many were."""
    batch = get_batch(db, batch_id, lock=True)
    if batch.status != PREVIEWED:
        raise Conflict(f"import batch {batch_id} is {batch.status}", {"batch": f"is {batch.status}"})
    count = db.execute(update(ImportRow).where(ImportRow.batch_id == batch.id, ImportRow.action == CONFLICT,
                                               ImportRow.resolution.is_(None)).values(resolution=SKIP)).rowcount
    record(db, actor=actor, action="bulk.import_resolve", target=("import_batch", batch.id), address=address,
           after={"skipped_conflicts": count})
    return count


def unresolved(db, batch) -> int:
    return db.scalar(select(func.count()).select_from(ImportRow).where(
        ImportRow.batch_id == batch.id, ImportRow.action == CONFLICT, ImportRow.resolution.is_(None)))


def _to_apply(db, batch, after_row=0, limit=None) -> tuple[list[ToApply], int, bool]:
    """The rows confirm applies after `after_row`, looking at no more than `limit` rows that may
    apply; the last row number looked at; whether rows are left after it."""
    keys = keys_of(db.get_bind().dialect)
    query = (select(ImportRow.row_no, ImportRow.action, ImportRow.base_action, ImportRow.target_id,
                    ImportRow.resolution, ImportRow.basis, ImportRow.blind_index, SEALED)
             .where(ImportRow.batch_id == batch.id, ImportRow.row_no > after_row,
                    ImportRow.action.in_((ADD, CHANGE, CONFLICT)))
             .order_by(ImportRow.row_no))
    rows = db.execute(query.limit(limit) if limit else query).all()
    found = []
    for row in rows:
        action = effective_action(row.action, row.base_action, row.resolution)
        if action is None:
            continue
        chosen = ToApply(row.row_no, action, row.target_id, row.basis, row.blind_index, row.sealed, keys)
        if row.resolution and row.resolution.startswith(TARGET):
            chosen.target_id = int(row.resolution[len(TARGET):])
            chosen.basis = chosen.payload["candidates"][str(chosen.target_id)]["basis"]
        found.append(chosen)
    return found, rows[-1].row_no if rows else after_row, bool(limit) and len(rows) == limit


def _stale_reason(found: dict) -> str:
    named = sorted(found)[:STALE_ROWS_NAMED]
    more = f" and {len(found) - len(named)} more" if len(found) > len(named) else ""
    return ("the data changed since the preview: " + "; ".join(f"row {number}: {found[number]}" for number in named)
            + more + ". Preview the file again.")[:500]


def confirm(db, batch_id, *, actor, programme=None, address=None) -> ImportBatch:
    """Confirm a preview: refused while a conflict is unresolved; a preview that went stale is
    marked so (status stale, with the rows and why) and nothing is written. Otherwise the batch
    starts applying (apply_next_chunk). Confirming a batch that applies or is applied does nothing."""
    batch = get_batch(db, batch_id, lock=True)
    if batch.status in (APPLYING, APPLIED, STALE):
        return batch
    if batch.status == DISCARDED:
        raise Conflict(f"import batch {batch_id} was discarded", {"batch": "was discarded"})
    open_conflicts = unresolved(db, batch)
    if open_conflicts:
        raise Conflict(f"{open_conflicts} conflicts are not resolved: skip them or choose what wins",
                       {"conflicts": f"{open_conflicts} not resolved"})
    module, context = KINDS[batch.kind], ImportContext(batch.content_hash, utcnow(), programme)
    rows, _, _ = _to_apply(db, batch)
    found = {}
    for chunk in chunks(rows):
        found.update(module.stale(db, chunk, context))
    if found:
        batch.status, batch.stale_reason = STALE, _stale_reason(found)
        return batch
    batch.status, batch.confirmed_at, batch.confirmed_by = APPLYING, context.now, actor.name[:100]
    batch.counts = {**batch.counts, "to_apply": len(rows)}
    if not rows:
        batch.status, batch.finished_at = APPLIED, context.now
    record(db, actor=actor, action="bulk.import_confirm", target=("import_batch", batch.id), address=address,
           after={"kind": batch.kind, "content_hash": batch.content_hash, "rows_to_apply": len(rows),
                  "rows_skipped": batch.total_rows - len(rows)})
    return batch


def apply_next_chunk(db, batch_id, *, programme=None, chunk=CHUNK) -> ImportBatch:
    """Apply the next chunk of a confirmed batch in the caller's transaction, all or nothing; the
    batch records how far it got. A row whose record changed since the preview (or that its
    service refuses) stops the batch as stale, with nothing of the chunk written."""
    batch = get_batch(db, batch_id, lock=True)
    if batch.status != APPLYING:
        return batch
    module, context = KINDS[batch.kind], ImportContext(batch.content_hash, utcnow(), programme)
    rows, last_row, more = _to_apply(db, batch, batch.applied_through, chunk)
    found = module.stale(db, rows, context) if rows else {}
    if found:
        batch.status, batch.stale_reason = STALE, _stale_reason(found)
        return batch
    savepoint = db.begin_nested()
    try:
        applied = module.apply(db, rows, context) if rows else 0
    except LpsError as exc:
        savepoint.rollback()
        batch.status = STALE
        batch.stale_reason = f"nothing of rows {rows[0].row_no} to {rows[-1].row_no} was applied: {exc.message}"[:500]
        return batch
    savepoint.commit()
    batch.applied_rows += applied
    batch.applied_through = last_row
    if not more:
        batch.status, batch.finished_at = APPLIED, utcnow()
    return batch


def discard(db, batch_id, *, actor, address=None) -> ImportBatch:
    batch = get_batch(db, batch_id, lock=True)
    if batch.status not in (PREVIEWED, STALE):
        raise Conflict(f"import batch {batch_id} is {batch.status}", {"batch": f"is {batch.status}"})
    batch.status = DISCARDED
    record(db, actor=actor, action="bulk.import_discard", target=("import_batch", batch.id), address=address,
           after={"kind": batch.kind, "content_hash": batch.content_hash})
    return batch


def progress(batch) -> dict:
    """What the preview page and the CLI show of a batch."""
    to_apply = (batch.counts or {}).get("to_apply")
    return {"id": batch.id, "kind": batch.kind, "file_name": batch.file_name, "file_format": batch.file_format,
            "content_hash": batch.content_hash, "status": batch.status, "total_rows": batch.total_rows,
            "counts": {name: count for name, count in (batch.counts or {}).items() if name != "to_apply"},
            "to_apply": to_apply, "applied_rows": batch.applied_rows, "applied_through": batch.applied_through,
            "percent": 100 if batch.status == APPLIED else (int(100 * batch.applied_rows / to_apply) if to_apply else 0),
            "stale_reason": batch.stale_reason}


def batches(db, limit=50) -> list[ImportBatch]:
    return list(db.scalars(select(ImportBatch).order_by(ImportBatch.id.desc()).limit(limit)))

