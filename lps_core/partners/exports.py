"""A partner statement as JSON (the API, `lps partners statement --format json`), CSV and XLSX:
the totals first, then every line with the posting behind it. Money is written as decimal text in
CSV and JSON and as a two-decimal number in XLSX (the price per point with six); times in the
programme's zone. CSV and XLSX go through lps_core.exports, which keeps a partner's or a note's
text from being read as a spreadsheet formula."""
from lps_core.exports import AMOUNT, DATE, INTEGER, PRICE, TEXT, Column, Table, to_csv, to_xlsx
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


TOTAL_COLUMNS = (Column("partner", "partner"), Column("partner_name", "partner_name"),
                 Column("period_start", "period_start", DATE), Column("period_end", "period_end", DATE),
                 Column("status", "status"), Column("closed_at", "closed_at"),
                 Column("points_issued", "points_issued", INTEGER),
                 Column("points_redeemed", "points_redeemed", INTEGER),
                 Column("benefit_cost", "benefit_cost", AMOUNT), Column("due_from_partner", "due_from_partner", AMOUNT),
                 Column("due_to_partner", "due_to_partner", AMOUNT), Column("net", "net", AMOUNT))
LINE_KINDS = {"position": INTEGER, "points": INTEGER, "price": PRICE, "amount": AMOUNT}


def statement_tables(statement, tz) -> list[Table]:
    """The totals (one row), then the lines: the tables the CSV and the workbook are written from."""
    data = statement_json(statement, tz)
    totals = Table("Totals", list(TOTAL_COLUMNS), [{column.key: data[column.key] for column in TOTAL_COLUMNS}])
    lines = Table("Lines", [Column(key, key, LINE_KINDS.get(key, TEXT)) for key in LINE_COLUMNS],
                  [{key: line[key] for key in LINE_COLUMNS} for line in data["lines"]])
    return [totals, lines]


def statement_csv(statement, tz) -> bytes:
    """The totals, a blank line, the lines (lps_core.exports: UTF-8 with a BOM, text formula-safe)."""
    return to_csv(statement_tables(statement, tz))


def statement_xlsx(statement, tz) -> bytes:
    """A sheet of totals and a sheet of lines; money as two-decimal numbers, the price with six."""
    return to_xlsx(statement_tables(statement, tz))
