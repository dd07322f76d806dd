"""Thermal receipts: the ESC/POS stream (python-escpos's dummy printer) for 58 and 80 mm paper, in
GB18030 with Chinese mode, the cut, COPY on reprints and the signature line; and printing for real
on a network printer (lps_core.testing.NetworkPrinter: a TCP server on loopback standing in for the
printer's raw port 9100) and on a serial printer (a pseudo-terminal pair). HTTP tests run on SQLite and PostgreSQL."""
import base64
import io
import os
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from lps_core.receipts.models import ReceiptPrint
from lps_core.receipts.services import Layout
from lps_core.receipts.thermal import CHINESE_MODE, COLUMNS, columns_of, escpos_bytes, logo_image, receipt_lines
from lps_core.testing import NetworkPrinter

CUT = b"\x1dV"  # GS V
SHANGHAI = ZoneInfo("Asia/Shanghai")
DOCUMENT = {
    "id": 1, "outlet": {"code": "REST", "name": "香格里拉中餐厅 Shang Palace"},
    "property": {"code": "T", "name": "Test Hotel"},
    "bill_no": "B-1001", "occurred_at": "2026-11-25T10:30:00Z", "operator": "alice",
    "card": {"card_no": "8800123456789012", "type": "standard", "type_name": "Standard"},
    "member": {"id": 1, "name": "李伟"}, "tier": {"code": "gold", "name": "金卡", "discount_rate": "0.1"},
    "items": [{"sku": "北京烤鸭 Peking duck, whole, with pancakes and sauce", "category": "food", "qty": "1",
               "amount": "200.00", "discount": "20.00", "charged": "180.00"}],
    "gross": "200.00", "discount": "20.00", "charged": "180.00",
    "tenders": [{"kind": "cash", "amount": "100.00", "reference": None},
                {"kind": "credit", "amount": "80.00", "reference": None}],
    "points": 180, "balances": {"points": 1234, "stored_value": "150.00", "uses": None}, "refunds": [],
}


def lines_of(document=DOCUMENT, paper="80mm", copy_no=0, layout=Layout()):
    return receipt_lines(document, layout, paper=paper, copy_no=copy_no, time_zone=SHANGHAI)


@pytest.mark.parametrize("paper", ["58mm", "80mm"])
def test_every_line_fits_the_paper_counting_a_chinese_character_as_two_columns(paper):
    lines = lines_of(paper=paper)
    for line in lines:
        assert columns_of(line.text) * (2 if line.large else 1) <= COLUMNS[paper], line
    texts = [line.text for line in lines]
    assert any(text.startswith("Bill no.") and text.endswith("B-1001") for text in texts)
    assert any(text.startswith("Time") and text.endswith("2026-11-25 18:30") for text in texts)
    assert any("************9012" in text for text in texts) and not any("8800123456789012" in t for t in texts)


def test_the_stream_is_chinese_mode_gb18030_text_and_a_cut():
    stream = escpos_bytes(lines_of(), paper="80mm")
    assert stream.startswith(b"\x1b@" + CHINESE_MODE)  # initialise, then FS &
    assert "香格里拉中餐厅".encode("gb18030") in stream
    assert "李伟".encode("gb18030") in stream and "李伟".encode("utf-8") not in stream
    assert b"180.00" in stream
    assert CUT in stream[-8:]


def test_a_reprint_is_marked_copy_and_the_original_is_not():
    assert b"COPY" not in escpos_bytes(lines_of(copy_no=0), paper="58mm")
    copy = escpos_bytes(lines_of(copy_no=2), paper="58mm")
    assert b"COPY" in copy and b"(copy 2)" in copy


def test_a_bill_charged_to_credit_has_a_signature_line_and_a_cash_bill_has_none():
    assert any(line.text.startswith("Signature:") for line in lines_of())
    cash_only = {**DOCUMENT, "tenders": [{"kind": "cash", "amount": "180.00", "reference": None}]}
    assert not any(line.text.startswith("Signature:") for line in lines_of(cash_only))
    no_signatures = Layout(fields=("member", "card", "tenders"))
    assert not any(line.text.startswith("Signature:") for line in lines_of(layout=no_signatures))


def test_the_labels_print_in_the_translators_language():
    def translate(msgid, domain=None, mapping=None, default=None, **rest):
        return {"To pay": "应付", "Bill no.": "单号"}.get(msgid, msgid)

    lines = receipt_lines(DOCUMENT, Layout(), paper="58mm", copy_no=0, time_zone=SHANGHAI, translate=translate)
    assert any(line.text.startswith("单号") for line in lines)
    assert any(line.text.startswith("应付") and line.large for line in lines)


def test_a_data_uri_logo_is_printed_as_a_raster_image_scaled_to_the_paper():
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (1000, 200), 0).save(buffer, format="PNG")
    logo = logo_image("data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode(), "58mm")
    assert logo.width == 384 and logo.height == 76
    stream = escpos_bytes(lines_of(paper="58mm"), paper="58mm", logo=logo)
    assert b"\x1dv0" in stream  # GS v 0: a raster bit image
    assert logo_image("https://hotel.example/logo.png", "58mm") is None
    assert logo_image("data:image/png;base64,AAAA", "58mm") is None  # not an image: left out


# --- printing real settlements -------------------------------------------------------------------------

@pytest.fixture
def settled(testapp, seed):
    card_no = seed.member_card(name="Ann Lee")
    cashier = {"Authorization": f"Bearer {seed.api_key('REST', scopes=['cashier'])}"}
    body = {"card_no": card_no, "bill_no": "B-2001", "operator": "alice",
            "tenders": [{"kind": "cash", "amount": "88.00"}], "items": [{"sku": "TEA", "qty": "1", "amount": "88.00"}]}
    return testapp.post_json("/api/v1/settlements", body, headers=cashier, status=201).json, cashier


def manager(seed):
    return {"Authorization": f"Bearer {seed.api_key('REST', scopes=['outlets.manage'])}"}


def wait_for(condition, seconds=5):
    import time

    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_settlement_prints_on_the_outlets_network_printer_then_copies(testapp, seed, settled, network_printer):
    document, cashier = settled
    saved = testapp.put_json("/api/v1/outlets/REST/receipt-printer",
                             {"connection": "network", "address": f"127.0.0.1:{network_printer.port}", "paper": "58mm",
                              "auto_print": True}, headers=manager(seed)).json
    address = f"127.0.0.1:{network_printer.port}"
    assert saved == {"outlet": "REST", "printer": {"connection": "network", "address": address, "paper": "58mm",
                                                   "baudrate": None, "auto_print": True}}
    assert testapp.get("/api/v1/outlets/REST/receipt-printer", headers=manager(seed)).json == saved

    url = f"/api/v1/settlements/{document['id']}/receipt/print"
    first = testapp.post(url, headers=cashier, status=201).json
    assert first == {"settlement_id": document["id"], "copy": False, "copy_no": 0, "paper": "58mm",
                     "bytes": first["bytes"]}
    wait_for(lambda: len(network_printer.jobs) == 1)
    assert len(network_printer.jobs[0]) == first["bytes"]
    assert b"B-2001" in network_printer.jobs[0] and b"88.00" in network_printer.jobs[0]
    assert b"COPY" not in network_printer.jobs[0] and CUT in network_printer.jobs[0]

    assert testapp.post(url, headers=cashier, status=201).json["copy_no"] == 1
    wait_for(lambda: len(network_printer.jobs) == 2)
    assert b"COPY" in network_printer.jobs[1]
    prints = testapp.get(f"/api/v1/settlements/{document['id']}/receipt/prints", headers=cashier).json["prints"]
    assert [(p["copy_no"], p["paper"], p["template"]) for p in prints] == [(0, "58mm", "escpos"), (1, "58mm", "escpos")]


def test_a_printer_out_of_reach_answers_503_and_records_nothing(testapp, seed, settled, network_printer):
    document, cashier = settled
    network_printer.close()  # the printer is off: its port refuses
    testapp.put_json("/api/v1/outlets/REST/receipt-printer",
                     {"connection": "network", "address": f"127.0.0.1:{network_printer.port}"}, headers=manager(seed))
    answer = testapp.post(f"/api/v1/settlements/{document['id']}/receipt/print", headers=cashier, status=503).json
    assert answer["fields"] == {"printer": "unreachable"}
    assert seed.db.scalars(select(ReceiptPrint).where(ReceiptPrint.settlement_id == document["id"])).all() == []

    back = NetworkPrinter()  # switched on again (on a new port)
    try:
        testapp.put_json("/api/v1/outlets/REST/receipt-printer",
                         {"connection": "network", "address": f"127.0.0.1:{back.port}"}, headers=manager(seed))
        again = testapp.post(f"/api/v1/settlements/{document['id']}/receipt/print", headers=cashier, status=201).json
        assert again["copy_no"] == 0  # the one that came out is the original
    finally:
        back.close()


def test_a_settlement_prints_on_a_serial_printer(testapp, seed, settled, pty_socket):
    document, cashier = settled
    testapp.put_json("/api/v1/outlets/REST/receipt-printer",
                     {"connection": "serial", "address": os.ttyname(pty_socket.slave), "baudrate": 19200,
                      "paper": "80mm"},
                     headers=manager(seed))
    testapp.post(f"/api/v1/settlements/{document['id']}/receipt/print", headers=cashier, status=201)
    received = b""
    while CUT not in received:
        received += os.read(pty_socket.master, 65536)
    assert received.startswith(b"\x1b@" + CHINESE_MODE) and b"B-2001" in received


def test_without_a_printer_printing_is_404_and_other_outlets_cannot_print(testapp, seed, settled):
    document, cashier = settled
    answer = testapp.post(f"/api/v1/settlements/{document['id']}/receipt/print", headers=cashier, status=404).json
    assert answer["fields"] == {"printer": "none configured for the outlet"}
    spa = {"Authorization": f"Bearer {seed.api_key('SPA', scopes=['cashier'])}"}
    testapp.post(f"/api/v1/settlements/{document['id']}/receipt/print", headers=spa, status=404)
    assert testapp.delete("/api/v1/outlets/REST/receipt-printer", headers=manager(seed)).json["printer"] is None


@pytest.mark.parametrize("body, field", [
    ({"connection": "network", "address": "printer"}, "address"),
    ({"connection": "network", "address": "10.0.0.5:70000"}, "address"),
    ({"connection": "serial", "address": "/dev/ttyS0; rm -rf /"}, "address"),
    ({"connection": "usb", "address": "04b8:0202", "baudrate": 9600}, "baudrate"),
    ({"connection": "serial", "address": "/dev/ttyS0", "baudrate": 9601}, "baudrate"),
    ({"connection": "bluetooth", "address": "x"}, "connection"),
    ({"connection": "network", "address": "10.0.0.5:9100", "paper": "a4"}, "paper"),
])
def test_a_bad_printer_is_refused_naming_the_field(testapp, seed, body, field):
    answer = testapp.put_json("/api/v1/outlets/REST/receipt-printer", body, headers=manager(seed), expect_errors=True)
    assert answer.status_int in (400, 422) and field in answer.json["fields"]
    cashier = {"Authorization": f"Bearer {seed.api_key('REST', scopes=['cashier'])}"}
    testapp.get("/api/v1/outlets/REST/receipt-printer", headers=cashier, status=403)


# --- the screens -----------------------------------------------------------------------------------------

def test_hotel_it_sets_the_printer_on_its_screen_and_the_desk_prints_by_itself(testapp, seed, network_printer):
    from lps_core.testing import audited, sign_in_as

    sign_in_as(testapp, seed, "ivan", "printer-pass-123", ("administrator",), ())
    page = testapp.get("/config/outlets/REST/printer")
    form = page.forms["printer"]
    form["connection"], form["address"], form["paper"] = "network", "printer", "58mm"
    refused = form.submit(status=400)
    assert "must be host:port" in refused.html.select_one("#address").find_next("p", class_="error").text
    form = refused.forms["printer"]
    form["address"] = f"127.0.0.1:{network_printer.port}"
    form["auto_print"] = True
    saved = form.submit(status=303).follow()
    assert "Receipt printer saved." in saved.text
    assert audited(seed.db, "outlet.receipt_printer")[-1].after["device"] == f"127.0.0.1:{network_printer.port}"

    card_no = seed.member_card(name="Ann Lee")
    sign_in_as(testapp, seed, "carla", "printer-pass-123", ("cashier",), ("REST",))
    page = testapp.get("/cashier", {"card_no": card_no, "outlet": "REST"})
    bill = page.forms["bill"]
    bill["item-0-amount"], bill["tender-0-kind"], bill["tender-0-amount"] = "66.00", "cash", "66.00"
    settled = bill.submit(status=303)
    assert "print=auto" in settled.location
    shown = settled.follow()
    printing = shown.html.select_one("#thermal-print")
    assert printing["data-auto-print"] == "1"  # the page sends it as soon as it opens

    answer = testapp.post(printing["action"], {"csrf_token": shown.forms["thermal-print"]["csrf_token"].value},
                          headers={"X-Requested-With": "fetch"}, status=200).json
    assert answer == {"printed": True, "message": "The receipt is printed."}
    wait_for(lambda: len(network_printer.jobs) == 1)
    assert b"66.00" in network_printer.jobs[0]
    again = testapp.get(settled.location)  # opened again: it has printed, so it does not print by itself
    assert again.html.select_one("#thermal-print").get("data-auto-print") is None
    copy = again.forms["thermal-print"].submit(status=303).follow()
    assert "A copy of the receipt is printed." in copy.text
    wait_for(lambda: len(network_printer.jobs) == 2)
    assert b"COPY" in network_printer.jobs[1]

    network_printer.close()
    failed = testapp.post(printing["action"], {"csrf_token": shown.forms["thermal-print"]["csrf_token"].value},
                          headers={"X-Requested-With": "fetch"}, status=200).json
    assert failed["printed"] is False and "cannot be reached" in failed["message"]
