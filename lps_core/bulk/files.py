"""The files of bulk exchange: tables of text read from and written to CSV, XLSX and JSON.

- CSV: a header row of column names, then one row per record; UTF-8 (a byte-order mark is allowed,
  and written, so that Excel opens it right) or GB18030, as the operator says. A text cell that
  starts with = + - @ is written behind a ' so that a spreadsheet shows it rather than computes it
  ("+86 138..." stays a phone number); reading drops that ' again.
- XLSX: the first sheet, its first row the column names (openpyxl). Every text cell is written as
  text: openpyxl would store "=..." as a formula.
  CSV and XLSX are written by lps_core.exports, the one writer of every export in LPS.
- JSON: a list of objects, or an object whose "rows" is that list (what an export writes).

Every cell is read as text, stripped; numbers and dates of a workbook become their plain text. The
format is told by the content (a workbook is a zip file, JSON starts with [ or {), and a file whose
name says otherwise is refused: an XLSX saved as .csv is a mistake the operator should hear about."""
import csv
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import date, datetime

from lps_core.errors import ValidationFailed
from lps_core.exports import FORMULA_START, Column, to_csv, to_xlsx
from lps_core.exports import Table as ExportTable

CSV, XLSX, JSON = "csv", "xlsx", "json"
FORMATS = (CSV, XLSX, JSON)
ENCODINGS = ("utf-8", "gb18030")
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_ROWS = 200_000
CONTENT_TYPES = {CSV: "text/csv; charset=utf-8", XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 JSON: "application/json"}


@dataclass(frozen=True)
class Table:
    file_format: str
    columns: tuple[str, ...]
    rows: list  # (row number in the file, {column: text}); a CSV's or sheet's header is row 1


def bad_file(message) -> ValidationFailed:
    return ValidationFailed(f"the file cannot be read: {message}", {"file": message})


def format_of_content(content: bytes) -> str:
    if content[:4] == b"PK\x03\x04":
        return XLSX
    start = content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return JSON if start in (b"[", b"{") else CSV


def format_of_name(file_name) -> str | None:
    suffix = (file_name or "").rsplit(".", 1)[-1].lower() if "." in (file_name or "") else ""
    return suffix if suffix in FORMATS else None


def read_table(content: bytes, file_name: str, *, encoding: str = "utf-8", declared: str | None = None) -> Table:
    """The file as a table of text; ValidationFailed naming `file` when it cannot be one."""
    if not content:
        raise bad_file("is empty")
    if len(content) > MAX_FILE_BYTES:
        raise bad_file(f"is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB: split it")
    actual = format_of_content(content)
    expected = declared or format_of_name(file_name)
    if expected and expected != actual:
        raise bad_file(f"is {actual.upper()}, not {expected.upper()}: choose the format it is, or save it again "
                       f"as {expected.upper()}")
    if actual == XLSX:
        columns, rows = _read_xlsx(content)
    elif actual == JSON:
        columns, rows = _read_json(content, encoding)
    else:
        columns, rows = _read_csv(content, encoding)
    if len(rows) > MAX_ROWS:
        raise bad_file(f"has more than {MAX_ROWS} rows: split it")
    return Table(actual, columns, rows)


def _decode(content, encoding) -> str:
    if encoding not in ENCODINGS:
        raise ValidationFailed("unknown encoding", {"encoding": f"must be one of {', '.join(ENCODINGS)}"})
    try:
        return content.decode("utf-8-sig" if encoding == "utf-8" else encoding)
    except UnicodeDecodeError as exc:
        other = "GB18030" if encoding == "utf-8" else "UTF-8"
        raise bad_file(f"is not {encoding.upper()} text (byte {exc.start + 1}): save it as UTF-8, or choose "
                       f"the encoding {other} if it was written so") from None


def _header(names) -> tuple[str, ...]:
    columns = tuple(str(name or "").strip().lower() for name in names)
    while columns and not columns[-1]:
        columns = columns[:-1]
    if not columns:
        raise bad_file("has no header row naming its columns")
    if "" in columns:
        raise bad_file(f"column {columns.index('') + 1} of the header has no name")
    repeated = sorted({name for name in columns if columns.count(name) > 1})
    if repeated:
        raise bad_file(f"names the column {', '.join(repeated)} twice")
    return columns


def _unguarded(text: str) -> str:
    return text[1:] if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_START else text


def _read_csv(content, encoding):
    text = _decode(content, encoding)
    if "\x00" in text:
        raise bad_file("holds NUL characters: it is no CSV text file")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise bad_file("is empty")
        columns = _header(header)
        rows = []
        for line in reader:
            if not any(cell.strip() for cell in line):
                continue
            if len(line) > len(columns) and any(cell.strip() for cell in line[len(columns):]):
                raise bad_file(f"row {reader.line_num} has more cells than the header has columns")
            cells = [_unguarded(cell.strip()) for cell in line[:len(columns)]]
            rows.append((reader.line_num, dict(zip(columns, cells + [""] * (len(columns) - len(cells))))))
    except csv.Error as exc:
        raise bad_file(f"is not well-formed CSV near row {reader.line_num}: {exc}") from None
    return columns, rows


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _read_xlsx(content):
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise bad_file(f"is not a readable XLSX workbook ({exc.__class__.__name__})") from None
    try:
        sheet = workbook.worksheets[0]
        lines = sheet.iter_rows(values_only=True)
        header = next(lines, None)
        if header is None:
            raise bad_file("has an empty first sheet")
        columns = _header(header)
        rows = []
        for number, line in enumerate(lines, start=2):
            cells = [_cell_text(value) for value in line]
            if not any(cells):
                continue
            if any(cells[len(columns):]):
                raise bad_file(f"row {number} has more cells than the header has columns")
            cells = cells[:len(columns)] + [""] * (len(columns) - len(cells))
            rows.append((number, dict(zip(columns, cells))))
            if len(rows) > MAX_ROWS:
                break
    finally:
        workbook.close()
    return columns, rows


def _read_json(content, encoding):
    try:
        data = json.loads(_decode(content, encoding))
    except json.JSONDecodeError as exc:
        raise bad_file(f"is not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}") from None
    if isinstance(data, dict):
        data = data.get("rows")
    if not isinstance(data, list):
        raise bad_file("must be a JSON list of objects, or an object whose \"rows\" is that list")
    columns = {}
    rows = []
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise bad_file(f"item {index + 1} is not an object")
        cells = {}
        for name, value in item.items():
            if isinstance(value, (dict, list)):
                raise bad_file(f"item {index + 1}: {name} must be a plain value, not a list or an object")
            cells[str(name).strip().lower()] = _cell_text(value)
            columns.setdefault(str(name).strip().lower(), None)
        rows.append((index + 1, cells))
    if not columns:
        raise bad_file("has no rows")
    columns = tuple(columns)
    return columns, [(number, {column: cells.get(column, "") for column in columns}) for number, cells in rows]


def write_table(kind: str, columns, rows, file_format: str, *, exported_at: str) -> bytes:
    """`rows` (sequences in the order of `columns`, values already text or None) as a file: JSON
    here, CSV and XLSX through lps_core.exports (one header row of the column names, text guarded
    against formulas; `_unguarded` above reads the guard back)."""
    if file_format == JSON:
        return json.dumps({"kind": kind, "exported_at": exported_at, "columns": list(columns),
                           "rows": [dict(zip(columns, row)) for row in rows]}, ensure_ascii=False).encode()
    table = ExportTable(kind, [Column(name, name) for name in columns], [dict(zip(columns, row)) for row in rows])
    return to_xlsx([table]) if file_format == XLSX else to_csv([table])
