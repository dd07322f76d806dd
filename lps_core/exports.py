"""Tables as files: one place that turns rows and their columns into a CSV, an XLSX workbook or
JSON, so every export in LPS writes the same figures the same way.

    from lps_core.exports import Column, Table, to_csv, to_xlsx

    table = Table("Sales", [Column("outlet", "Outlet"), Column("net", "Net", MONEY)], rows, totals)
    body = to_csv([table])                  # bytes: UTF-8 with a BOM, so Excel reads Chinese
    body = to_xlsx([table, other_table])    # bytes: one sheet per table (openpyxl)

A column has a kind: TEXT, INTEGER, MONEY (integer cents in the rows; "1234.50" in CSV and JSON,
a number with two decimals in XLSX), AMOUNT (a Decimal sum of money: its text in CSV and JSON, a
two-decimal number in XLSX), RATIO (a
Decimal; text in CSV and JSON, a number with four decimals in XLSX), PRICE (a Decimal price per
point, six decimals in XLSX) or DATE (an ISO date text).

Every text cell is formula-safe (CWE-1236): a spreadsheet computes a cell that starts with = + - @,
TAB or CR, so a member named "=HYPERLINK(...)" would run when the file is opened. In CSV such text
is written behind a ' (lps_core.bulk.files drops it again when the file is imported); in XLSX every
text cell is stored as a string, never a formula ("0042" also keeps its zeros). Numbers are
written as numbers and never guarded: a refund stays -12.00. The totals row, when given, is written below the rows with the first
column's label replaced by the word given as `totals_label`. Nothing here knows a report: the
reports (lps_core.reports) and any other list with an export hand their tables in."""
import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal

from lps_core.money import format_cents

TEXT, INTEGER, MONEY, AMOUNT, RATIO, PRICE, DATE = "text", "integer", "money", "amount", "ratio", "price", "date"
NUMBERS = (INTEGER, MONEY, AMOUNT, RATIO, PRICE)
NUMBER_FORMATS = {MONEY: "#,##0.00", AMOUNT: "#,##0.00", RATIO: "0.0000", PRICE: "0.000000"}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
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
    if kind in (AMOUNT, RATIO, PRICE):
        return str(value)
    if kind == INTEGER:
        return int(value)
    return str(value)


def guarded(text: str) -> str:
    """Text a spreadsheet shows rather than computes: a leading ' before a formula character."""
    return "'" + text if text[:1] in FORMULA_START else text


def json_rows(table: Table) -> list[dict]:
    return [{column.key: json_value(row.get(column.key), column.kind) for column in table.columns}
            for row in table.rows]


def json_totals(table: Table) -> dict | None:
    if table.totals is None:
        return None
    return {column.key: json_value(table.totals.get(column.key), column.kind) for column in table.columns
            if column.key in table.totals}


def _csv_cell(value, kind):
    if value is None:
        return ""
    if kind in NUMBERS:
        return json_value(value, kind)
    return guarded(str(value))


def _text_row(table: Table, row: dict, first=None) -> list:
    cells = [_csv_cell(row.get(column.key), column.kind) for column in table.columns]
    if first is not None and cells:
        cells[0] = guarded(first)
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
            writer.writerow([guarded(table.title)])
        for note in table.notes:
            writer.writerow([guarded(note)])
        writer.writerow([guarded(column.label) for column in table.columns])
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
    """A number cell's value (text cells are _text_cell's)."""
    if value is None:
        return None
    if kind == MONEY:
        return Decimal(int(value)) / 100
    if kind in (AMOUNT, RATIO, PRICE):
        return Decimal(value)
    return int(value)


def to_xlsx(tables: list[Table]) -> bytes:
    """One sheet per table (write-only, so a long table streams): notes, the header row in bold,
    the rows, the totals in bold; numbers as numbers (money with two decimals), text as strings."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    used = set()
    for table in tables:
        title = _sheet_title(table.title, used)
        sheet = workbook.create_sheet(title)
        for note in table.notes:
            sheet.append([_text_cell(sheet, note)])
        header = []
        for column in table.columns:
            cell = _text_cell(sheet, column.label)
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
        if index == 0 and first is not None:
            cell = _text_cell(sheet, first)
        elif column.kind in NUMBERS or row.get(column.key) is None:
            cell = WriteOnlyCell(sheet, value=_xlsx_value(row.get(column.key), column.kind))
            if column.kind in NUMBER_FORMATS:
                cell.number_format = NUMBER_FORMATS[column.kind]
        else:
            cell = _text_cell(sheet, row.get(column.key))
        if font is not None:
            cell.font = font
        cells.append(cell)
    return cells


def _text_cell(sheet, value):
    """A string cell: openpyxl would store text starting with "=" as a formula."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=_xlsx_text(value))
    cell.data_type = "s"
    return cell


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


def download(body: bytes, stem: str, extension: str):
    """A CSV or XLSX file (`extension`) to download, named stem.extension (attachment_name): the
    one response of every report, statement, segment and log export, screen or API."""
    from pyramid.response import Response

    response = Response(body=body, content_type=CSV_TYPE if extension == "csv" else XLSX_TYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{attachment_name(stem, extension)}"'
    return response
