"""A partner statement as JSON (the API, `lps partners statement --format json`), CSV and XLSX
(openpyxl): the totals first, then every line with the posting behind it. Money is written as
decimal text in CSV and JSON and as a two-decimal number in XLSX; times in the programme's zone."""
import csv
import io

from lps_core.timeutil import isoformat

LINE_COLUMNS = ("position", "kind", "adjustment", "occurred_at", "recorded_at", "outlet", "reference", "points",
                "price", "direction", "amount", "note")


def totals_json(statement) -> dict:
    return {"points_issued": statement.points_issued, "points_redeemed": statement.points_redeemed,
            "benefit_cost": str(statement.benefit_cost), "due_from_partner": str(statement.due_from_partner),
            "due_to_partner": str(statement.due_to_partner), "net": str(statement.net)}


def line_json(line, tz) -> dict:
    return {"position": line.position, "kind": line.kind, "adjustment": line.late,
            "occurred_at": isoformat(line.occurred_at.astimezone(tz)),
            "recorded_at": isoformat(line.recorded_at.astimezone(tz)), "outlet": line.outlet_code,
            "reference": line.reference, "points": line.points, "price": str(line.price),
            "direction": line.direction, "amount": str(line.amount), "note": line.note,
            "source": line.source, "source_id": line.source_id, "contract_id": line.contract_id}


def statement_json(statement, tz) -> dict:
    closed = statement.closed
    return {"partner": statement.partner.code, "partner_name": statement.partner.name,
            "period_start": statement.period.start.isoformat(), "period_end": statement.period.last.isoformat(),
            "status": "closed" if closed else "open", "id": closed.id if closed else None,
            "closed_at": isoformat(closed.closed_at) if closed else None,
            "closed_by": closed.closed_by if closed else None,
            **totals_json(statement), "lines": [line_json(line, tz) for line in statement.lines]}


def _rows(statement, tz):
    data = statement_json(statement, tz)
    yield ("partner", data["partner"], data["partner_name"])
    yield ("period", data["period_start"], data["period_end"])
    yield ("status", data["status"], data["closed_at"] or "")
    for name in ("points_issued", "points_redeemed", "benefit_cost", "due_from_partner", "due_to_partner", "net"):
        yield (name, data[name])
    yield ()
    yield LINE_COLUMNS
    for line in data["lines"]:
        yield tuple("" if line[column] is None else line[column] for column in LINE_COLUMNS)


def statement_csv(statement, tz) -> bytes:
    """UTF-8 with a byte-order mark, so that spreadsheet programs read the Chinese names right."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in _rows(statement, tz):
        writer.writerow(row)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def statement_xlsx(statement, tz) -> bytes:
    from decimal import Decimal

    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "Statement"
    money = {"benefit_cost", "due_from_partner", "due_to_partner", "net"}
    for row in _rows(statement, tz):
        cells = list(row)
        if len(cells) == 2 and cells[0] in money:
            cells[1] = Decimal(cells[1])
        if len(cells) == len(LINE_COLUMNS) and cells[0] != "position":
            cells[LINE_COLUMNS.index("price")] = Decimal(cells[LINE_COLUMNS.index("price")])
            cells[LINE_COLUMNS.index("amount")] = Decimal(cells[LINE_COLUMNS.index("amount")])
        sheet.append(cells)
        if cells and cells[0] == "position":
            for cell in sheet[sheet.max_row]:
                cell.font = Font(bold=True)
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, Decimal):
                cell.number_format = "0.00" if cell.column_letter != "I" or cell.row < 10 else "0.000000"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
