"""Tables as files: one place that turns rows and their columns into a CSV, an XLSX workbook or
JSON, so every export in LPS writes the same figures the same way.

    from lps_core.exports import Column, Table, to_csv, to_xlsx

    table = Table("Sales", [Column("outlet", "Outlet"), Column("net", "Net", MONEY)], rows, totals)
    body = to_csv([table])                  # bytes: UTF-8 with a BOM, so Excel reads Chinese
    body = to_xlsx([table, other_table])    # bytes: one sheet per table (openpyxl)

A column has a kind: TEXT, INTEGER, MONEY (integer cents in the rows; "1234.50" in CSV and JSON,
a number with two decimals in XLSX), RATIO (a Decimal; text in CSV and JSON, a number in XLSX)
or DATE (an ISO date text). The totals row, when given, is written below the rows with the first
column's label replaced by the word given as `totals_label`. Nothing here knows a report: the
reports (lps_core.reports) and any other list with an export hand their tables in."""
import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal

from lps_core.money import format_cents

TEXT, INTEGER, MONEY, RATIO, DATE = "text", "integer", "money", "ratio", "date"
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_SHEET_TITLE = 31  # Excel's limit on a sheet's name


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = TEXT


@dataclass(frozen=True)
class Table:
    title: str
    columns: list
    rows: list  # dicts keyed by the columns' keys
    totals: dict | None = None
    totals_label: str = "Total"
    notes: list = field(default_factory=list)  # lines written above the table (filters, period)


def json_value(value, kind):
    """A cell as JSON shows it: money as a decimal string, ratios as text, integers as numbers."""
    if value is None:
        return None
    if kind == MONEY:
        return format_cents(int(value))
    if kind == RATIO:
        return str(value)
    if kind == INTEGER:
        return int(value)
    return str(value)


def json_rows(table: Table) -> list[dict]:
    return [{column.key: json_value(row.get(column.key), column.kind) for column in table.columns}
            for row in table.rows]


def json_totals(table: Table) -> dict | None:
    if table.totals is None:
        return None
    return {column.key: json_value(table.totals.get(column.key), column.kind) for column in table.columns
            if column.key in table.totals}


def _text_row(table: Table, row: dict, first=None) -> list:
    cells = ["" if row.get(column.key) is None else json_value(row.get(column.key), column.kind)
             for column in table.columns]
    if first is not None and cells:
        cells[0] = first
    return cells


def to_csv(tables: list[Table]) -> bytes:
    """Every table one after the other, a blank line between them, as UTF-8 with a BOM (Excel
    opens a BOM-less UTF-8 file as the local code page and garbles Chinese)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for number, table in enumerate(tables):
        if number:
            writer.writerow([])
        if len(tables) > 1:
            writer.writerow([table.title])
        for note in table.notes:
            writer.writerow([note])
        writer.writerow([column.label for column in table.columns])
        for row in table.rows:
            writer.writerow(_text_row(table, row))
        if table.totals is not None:
            writer.writerow(_text_row(table, table.totals, table.totals_label))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _xlsx_text(value) -> str:
    """Text as a worksheet takes it: XML 1.0 has no control characters, so they are dropped (a
    filter typed with one is echoed in the notes)."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def _xlsx_value(value, kind):
    if value is None:
        return None
    if kind == MONEY:
        return Decimal(int(value)) / 100
    if kind == RATIO:
        return Decimal(value)
    if kind == INTEGER:
        return int(value)
    return _xlsx_text(value)


def to_xlsx(tables: list[Table]) -> bytes:
    """One sheet per table (write-only, so a long table streams): notes, the header row in bold,
    the rows, the totals in bold; money as numbers formatted with two decimals."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    used = set()
    for table in tables:
        title = _sheet_title(table.title, used)
        sheet = workbook.create_sheet(title)
        for note in table.notes:
            sheet.append([_xlsx_text(note)])
        header = []
        for column in table.columns:
            cell = WriteOnlyCell(sheet, value=_xlsx_text(column.label))
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        for row in table.rows:
            sheet.append(_xlsx_cells(sheet, table, row))
        if table.totals is not None:
            sheet.append(_xlsx_cells(sheet, table, table.totals, table.totals_label, bold))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _xlsx_cells(sheet, table, row, first=None, font=None) -> list:
    from openpyxl.cell import WriteOnlyCell

    cells = []
    for index, column in enumerate(table.columns):
        value = _xlsx_text(first) if index == 0 and first is not None else _xlsx_value(row.get(column.key), column.kind)
        cell = WriteOnlyCell(sheet, value=value)
        if column.kind == MONEY:
            cell.number_format = "#,##0.00"
        elif column.kind == RATIO:
            cell.number_format = "0.0000"
        if font is not None:
            cell.font = font
        cells.append(cell)
    return cells


def _sheet_title(title: str, used: set) -> str:
    """A sheet name Excel accepts: no []:*?/\\, at most 31 characters, unique in the workbook."""
    clean = "".join("-" if char in "[]:*?/\\" else char for char in title)[:MAX_SHEET_TITLE] or "Sheet"
    candidate, number = clean, 2
    while candidate.lower() in used:
        suffix = f" ({number})"
        candidate, number = clean[:MAX_SHEET_TITLE - len(suffix)] + suffix, number + 1
    used.add(candidate.lower())
    return candidate


def attachment_name(stem: str, extension: str) -> str:
    """A download's file name: the stem's letters, digits, dots, dashes and underscores only."""
    safe = "".join(char if char.isalnum() and char.isascii() or char in "._-" else "_" for char in stem)
    return f"{safe}.{extension}"
