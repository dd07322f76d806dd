"""Formula injection (CWE-1236): every CSV and XLSX that LPS writes goes through lps_core.exports,
which writes text a spreadsheet would compute (= + - @ TAB CR first) behind a ' in CSV and as a
string cell in XLSX, and numbers as numbers, never guarded. Checked on the writer itself, on a
report and a partner statement over the API, and on a bulk export read back by the bulk import."""
import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from lps_core.audit.services import SYSTEM
from lps_core.bulk.files import read_table, write_table
from lps_core.earning.programme import Programme
from lps_core.exports import AMOUNT, INTEGER, MONEY, PRICE, RATIO, TEXT, Column, Table, to_csv, to_xlsx
from lps_core.partners import services
from lps_core.partners.services import NewOutlet, NewPartner, Terms

HOSTILE = ["=HYPERLINK(\"http://evil.example/\",\"click\")", "+1", "-1", "@SUM(A1:A2)", "\tcmd", "\rcmd"]


def csv_rows(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def cells(body: bytes, sheet=None) -> list:
    book = load_workbook(io.BytesIO(body))
    return [cell for row in (book[sheet] if sheet else book.active).iter_rows() for cell in row]


def table():
    columns = [Column("name", "Name"), Column("count", "Count", INTEGER), Column("net", "Net", MONEY),
               Column("rate", "Rate", RATIO), Column("cost", "Cost", AMOUNT), Column("price", "Price", PRICE),
               Column("code", "Code", TEXT)]
    rows = [{"name": text, "count": -3, "net": -1200, "rate": Decimal("-0.5"), "cost": Decimal("-12.00"),
             "price": Decimal("-0.012345"), "code": "0042"} for text in HOSTILE]
    return Table("Hostile", columns, rows, totals={"count": -18, "net": -7200}, notes=["=note"])


def test_text_cells_are_guarded_in_csv_and_numbers_are_not():
    rows = csv_rows(to_csv([table()]))
    assert rows[0] == ["'=note"]
    assert rows[1] == ["Name", "Count", "Net", "Rate", "Cost", "Price", "Code"]
    assert [row[0] for row in rows[2:8]] == ["'" + text for text in HOSTILE]
    assert rows[2][1:] == ["-3", "-12.00", "-0.5", "-12.00", "-0.012345", "0042"]
    assert rows[-1] == ["Total", "-18", "-72.00", "", "", "", ""]


def test_text_cells_are_strings_in_xlsx_and_numbers_are_numbers():
    found = cells(to_xlsx([table()]))
    for cell in found:
        if isinstance(cell.value, str):
            assert cell.data_type == "s", cell.value  # never "f": no formula in the workbook
    at = {(cell.row, cell.column): cell for cell in found}
    assert at[(1, 1)].value == "=note"
    assert [at[(row, 1)].value for row in range(3, 7)] == HOSTILE[:4]
    assert [at[(3, column)].data_type for column in range(2, 7)] == ["n"] * 5
    assert at[(3, 2)].value == -3 and Decimal(str(at[(3, 3)].value)) == Decimal("-12")
    assert at[(3, 3)].number_format == "#,##0.00" and at[(3, 6)].number_format == "0.000000"
    assert Decimal(str(at[(3, 6)].value)) == Decimal("-0.012345") and at[(3, 7)].value == "0042"


def test_a_bulk_export_is_guarded_and_reads_back_unchanged():
    columns = ("card_no", "name", "note")
    rows = [("0042", text, None) for text in HOSTILE]
    for file_format in ("csv", "xlsx"):
        body = write_table("members", columns, rows, file_format, exported_at="2026-01-01T00:00:00Z")
        if file_format == "csv":
            lines = csv_rows(body)
            assert lines[0] == list(columns) and lines[1] == ["0042", "'" + HOSTILE[0], ""]
            assert body.count(b"\r\n") == len(rows) + 1
        else:
            assert load_workbook(io.BytesIO(body)).sheetnames == ["members"]
        back = read_table(body, f"members.{file_format}")
        assert back.columns == columns
        assert [cells_["name"] for _, cells_ in back.rows][:4] == HOSTILE[:4]  # the reader strips TAB and CR
        assert all(cells_["card_no"] == "0042" for _, cells_ in back.rows)


def test_a_report_with_a_hostile_reference_exports_safely(testapp, seed):
    card_no = seed.member_card("=cmd")
    key = {"Authorization": f"Bearer {seed.api_key('REST')}"}
    testapp.post_json("/api/v1/transactions", {"card_no": card_no, "bill_no": "=cmd", "amount": "12.00"},
                      headers=key, status=201)
    reports = {"Authorization": f"Bearer {seed.api_key('REST', scopes=['reports'])}"}
    url = (f"/api/v1/reports/transactions?period=range&from={date.today() - timedelta(days=1)}"
           f"&to={date.today() + timedelta(days=1)}")
    rows = csv_rows(testapp.get(url + "&format=csv", headers=reports).body)
    assert any("'=cmd" in row for row in rows)
    assert not any("=cmd" in row for row in rows)
    found = cells(testapp.get(url + "&format=xlsx", headers=reports).body, "Transactions")
    hostile = [cell for cell in found if cell.value == "=cmd"]
    assert hostile and all(cell.data_type == "s" for cell in hostile)


@pytest.fixture
def hostile_partner(seed):
    programme = Programme.from_settings({"lps.rules.cache_seconds": "0"})
    services.create_partner(seed.db, seed.plugins, programme.timezone, NewPartner(
        "EVIL", "=cmd", "franchise", date(2020, 1, 1), None,
        (NewOutlet("EV1", "+counter", "base_rate", {}),)), actor=SYSTEM)
    services.add_contract(seed.db, "EVIL", Terms(date(2020, 1, 1), Decimal("0.01"), Decimal("0.008"), Decimal("1")),
                          date.today(), actor=SYSTEM)
    seed.db.commit()


def test_a_partner_statement_with_a_hostile_name_exports_safely(testapp, seed, hostile_partner):
    hq = {"Authorization": f"Bearer {seed.api_key('REST', scopes=['partners.manage'])}"}
    key = {"Authorization": f"Bearer {seed.api_key('EV1')}"}
    testapp.post_json("/api/v1/transactions", {"card_no": seed.member_card(), "bill_no": "-E1", "amount": "77.00"},
                      headers=key, status=201)
    url = f"/api/v1/partners/EVIL/statement?period={date.today():%Y-%m}"
    rows = csv_rows(testapp.get(url + "&format=csv", headers=hq).body)
    totals = dict(zip(rows[1], rows[2]))
    assert totals["partner_name"] == "'=cmd" and totals["net"] == "0.77" and totals["points_issued"] == "77"
    header, line = rows[rows.index(["Lines"]) + 1], rows[rows.index(["Lines"]) + 2]
    assert line[header.index("reference")].endswith("-E1") and line[header.index("amount")] == "0.77"
    book = load_workbook(io.BytesIO(testapp.get(url + "&format=xlsx", headers=hq).body))
    name = book["Totals"]["B2"]
    assert (name.value, name.data_type) == ("=cmd", "s")
    line = list(book["Lines"].iter_rows(min_row=2, values_only=False))[0]
    header = [cell.value for cell in book["Lines"][1]]
    assert line[header.index("reference")].data_type == "s"
    assert line[header.index("amount")].data_type == "n" and line[header.index("points")].value == 77
