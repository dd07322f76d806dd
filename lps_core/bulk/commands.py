"""`lps import` and `lps export`: the bulk exchange from the command line.

`lps import KIND FILE` previews the file and keeps the preview as a batch (nothing else is
written); `--dry-run` shows the preview and keeps nothing; `--confirm BATCH` resolves conflicts
(`--resolve ROW=RESOLUTION`, `--skip-conflicts`), confirms the batch previewed from the same file
and applies it a chunk per transaction with a progress bar, resuming where an interrupted run
stopped. `lps export KIND` writes a file (or stdout) with personal data, as whoever runs it holds
the keys that decrypt it; `--without-personal-data` leaves those columns out."""
import getpass
import sys
from datetime import date

from lps_core.errors import Conflict, ValidationFailed

PROBLEM_ROWS_SHOWN = 20


class _DryRun(Exception):
    def __init__(self, lines):
        super().__init__("dry run")
        self.lines = lines


def add_bulk_commands(commands):
    """Add `import` and `export` to the `lps` command's subparsers."""
    from lps_core.bulk.files import ENCODINGS, FORMATS
    from lps_core.bulk.models import KINDS
    from lps_core.bulk.schemas import EXPORT_KINDS

    imports = commands.add_parser("import", help="preview an import file (members, cards, points), then confirm "
                                                 "the preview with --confirm BATCH (docs/import-export.md)")
    imports.add_argument("kind", choices=KINDS)
    imports.add_argument("file", help="a CSV, XLSX or JSON file")
    mode = imports.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="show the preview and keep nothing, not even the batch")
    mode.add_argument("--confirm", type=int, metavar="BATCH", help="confirm and apply the batch previewed from FILE")
    imports.add_argument("--encoding", choices=ENCODINGS, default="utf-8", help="a CSV file's text (default utf-8)")
    imports.add_argument("--format", dest="file_format", choices=FORMATS, help="what the file is (default: its name)")
    imports.add_argument("--resolve", action="append", default=[], metavar="ROW=RESOLUTION",
                         help="with --confirm: settle a conflict row: skip, apply or target:<id> (repeatable)")
    imports.add_argument("--skip-conflicts", action="store_true", help="with --confirm: skip every conflict left")
    imports.add_argument("--rows", type=int, default=PROBLEM_ROWS_SHOWN,
                         help=f"rows with a change, conflict or error to print (default {PROBLEM_ROWS_SHOWN})")
    imports.add_argument("--no-progress", action="store_true", help="no progress bar, even on a terminal")
    imports.set_defaults(run=cmd_import)

    exports = commands.add_parser("export", help="export members, cards or points balances as CSV, XLSX or JSON")
    exports.add_argument("kind", choices=EXPORT_KINDS)
    exports.add_argument("--format", dest="file_format", choices=FORMATS, default="csv")
    exports.add_argument("--changed-since", metavar="YYYY-MM-DD", help="only what changed on or after this day")
    exports.add_argument("--output", "-o", help="the file to write (default: stdout)")
    exports.add_argument("--without-personal-data", action="store_true",
                         help="leave out phone numbers, ID numbers and addresses")
    exports.set_defaults(run=cmd_export)


def _actor(command):
    from lps_core.audit.services import Actor

    return Actor("system", f"lps {command} ({getpass.getuser()})")


def _read(path) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise ValidationFailed(f"{path} cannot be read: {exc.strerror}", {"file": exc.strerror}) from None


def _summary(db, batch, shown) -> list[str]:
    from lps_core.bulk.services import progress, rows_page

    state = progress(batch)
    counts = ", ".join(f"{count} {action}" for action, count in sorted(state["counts"].items()))
    lines = [f"batch {batch.id} ({batch.kind}, {batch.file_format}, sha256 {batch.content_hash[:12]}): "
             f"{batch.total_rows} rows: {counts or 'none'}; {batch.status}"]
    left = shown
    for action in ("conflict", "error", "change", "add"):
        if left <= 0:
            break
        rows, total = rows_page(db, batch, action=action, per_page=left)
        for row in rows:
            lines.append("  " + _row_line(row))
        left -= len(rows)
        if total > len(rows):
            lines.append(f"  ... {total - len(rows)} more {action} rows")
    return lines


def _row_line(row) -> str:
    head = f"row {row['row_no']} {row['action']}"
    if row["errors"]:
        return f"{head}: " + "; ".join(f"{name}: {message}" for name, message in row["errors"].items())
    if row["conflict"]:
        conflict = row["conflict"]
        chosen = f" -> {row['resolution']}" if row["resolution"] else ""
        return f"{head} ({conflict['kind']}): {conflict['message']} [{', '.join(conflict['options'])}]{chosen}"
    if row["diff"]:
        return f"{head}: " + "; ".join(f"{name} {old!r} -> {new!r}" for name, (old, new) in row["diff"].items())
    return f"{head}: {row['values']}"


def cmd_import(args):
    from lps_core.bulk import services
    from lps_core.cli import Environment

    content = _read(args.file)
    env = Environment(args.config)
    actor = _actor("import")

    def preview(db):
        batch, recognised = services.preview_import(db, kind=args.kind, content=content, file_name=args.file,
                                                    actor=actor, encoding=args.encoding,
                                                    file_format=args.file_format)
        lines = _summary(db, batch, args.rows)
        if recognised:
            lines.append(f"this file was confirmed before (batch {batch.id}, {batch.status}): nothing to preview")
        if args.dry_run:
            raise _DryRun(lines + ["dry run: nothing was kept"])
        return lines, batch.id, recognised

    if args.confirm is None:
        try:
            lines, batch_id, recognised = env.transaction(preview)
        except _DryRun as done:
            lines, batch_id, recognised = done.lines, None, True
        print("\n".join(lines))
        if not recognised:
            print(f"confirm with: lps import {args.kind} {args.file} --confirm {batch_id}")
        return 0
    return _confirm(env, args, content, actor)


def _confirm(env, args, content, actor) -> int:
    import hashlib

    from lps_core.bulk import services
    from lps_core.earning.programme import Programme
    from lps_core.batch_jobs import ProgressBar

    programme = Programme.from_settings(env.settings)
    content_hash = hashlib.sha256(content).hexdigest()

    def confirm(db):
        batch = services.get_batch(db, args.confirm, lock=True)
        if batch.content_hash != content_hash or batch.kind != args.kind:
            raise ValidationFailed(f"{args.file} is not the {args.kind} file batch {batch.id} previewed",
                                   {"file": f"is not the file of batch {batch.id}"})
        for wanted in args.resolve:
            row_no, _, resolution = wanted.partition("=")
            if not row_no.isdigit() or not resolution:
                raise ValidationFailed("--resolve takes ROW=RESOLUTION", {"resolve": f"{wanted!r} is not ROW=RESOLUTION"})
            services.resolve(db, batch.id, int(row_no), resolution, actor=actor)
        if args.skip_conflicts and batch.status == "previewed":
            services.skip_conflicts(db, batch.id, actor=actor)
        services.confirm(db, batch.id, actor=actor, programme=programme)
        return services.progress(batch)

    state = env.transaction(confirm)
    if state["status"] == "stale":
        print(f"lps: error: batch {state['id']} is stale: {state['stale_reason']}", file=sys.stderr)
        return 1
    bar = ProgressBar(state["to_apply"] or 1, not args.no_progress and sys.stderr.isatty())
    while state["status"] == "applying":
        state = env.transaction(lambda db: services.progress(
            services.apply_next_chunk(db, args.confirm, programme=programme)))
        bar.update(state["applied_rows"], f"{state['applied_rows']:,}/{state['to_apply'] or 0:,} rows")
    bar.close()
    if state["status"] == "stale":
        print(f"lps: error: batch {state['id']} stopped after {state['applied_rows']} rows: {state['stale_reason']}",
              file=sys.stderr)
        return 1
    if state["status"] != "applied":
        raise Conflict(f"batch {state['id']} is {state['status']}", {"batch": state["status"]})
    print(f"batch {state['id']} applied: {state['applied_rows']} rows written")
    return 0


def cmd_export(args):
    from lps_core.bulk.exports import export
    from lps_core.cli import Environment
    from lps_core.earning.programme import Programme

    since = None
    if args.changed_since:
        try:
            since = date.fromisoformat(args.changed_since)
        except ValueError:
            raise ValidationFailed("--changed-since must be a date such as 2026-11-01",
                                   {"changed_since": "must be a date such as 2026-11-01"}) from None
    env = Environment(args.config)
    programme = Programme.from_settings(env.settings)
    content, name, rows = env.transaction(lambda db: export(
        db, args.kind, args.file_format, actor=_actor("export"), personal=not args.without_personal_data,
        changed_since=since, tz=programme.timezone))
    if args.output:
        with open(args.output, "wb") as handle:
            handle.write(content)
    else:
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
    print(f"{rows} {args.kind} rows exported{' to ' + args.output if args.output else ''} ({name})", file=sys.stderr)
    return 0
