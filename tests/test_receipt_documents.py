"""Receipts of documents other than settlements: an earn-only bill, a deposit (and a top-up of uses),
a redemption, a settlement's refund and an earn-only bill's refund. Each is posted through the API
as a till would, then printed: its facts in the HTML (both papers) and in the ESC/POS stream
(GB18030 text and the cut), original then COPY numbered per document, another outlet's key 404, and
printing on a network printer (a TCP server on loopback). HTTP tests run on SQLite and PostgreSQL."""
import time
from datetime import timedelta, timezone

import pytest
from sqlalchemy import insert, select

from lps_core.cards.models import Card, CardType
from lps_core.cashier.models import SettlementRefund
from lps_core.earning.models import BillRefund
from lps_core.ledger import services as ledger
from lps_core.ledger.models import LedgerEntry
from lps_core.outlets.models import Outlet
from lps_core.members.services import Enrolment, approve_member, enrol_member
from lps_core.rewards.models import Redemption
from lps_core.receipts.document_printing import render_document
from lps_core.receipts.documents import build_document
from lps_core.receipts.models import ReceiptPrint
from lps_core.receipts.parts import document_parts
from lps_core.receipts.services import Layout
from lps_core.receipts.template_registry import MACROS_SPEC, load_template
from lps_core.receipts.thermal import CHINESE_MODE, COLUMNS, columns_of, document_lines, escpos_bytes
from lps_core.testing import sign_in_as
from lps_core.timeutil import utcnow

CUT = b"\x1dV"  # GS V
KINDS = ("bill", "card_movement", "redemption", "settlement_refund", "bill_refund")


def key(seed, outlet="REST", scopes=("cashier",)):
    return {"Authorization": f"Bearer {seed.api_key(outlet, scopes=list(scopes))}"}


@pytest.fixture
def documents(testapp, seed):
    """{kind: id} of one document of each kind at REST, posted through the API as a till would;
    the member is 李伟 on a prepaid card with a deposit bonus."""
    seed.db.execute(insert(CardType).values(code="prepaid", name="Prepaid", prefix="8801", stored_value=True,
                                            deposit_bonuses=[{"min_deposit": "500.00", "bonus": "50.00"}]))
    seed.db.commit()
    member_id = enrol_member(seed.db, Enrolment(name="李伟", channel="desk", phone="+8613911112222"))
    card_no = approve_member(seed.db, member_id, card_type_code="prepaid")
    seed.db.commit()
    everything = key(seed, scopes=["cashier", "transactions", "rewards", "rewards.manage"])

    bill = testapp.post_json("/api/v1/transactions", {"card_no": card_no, "bill_no": "EB-7", "amount": "120.00"},
                             headers=everything, status=201).json
    testapp.post_json(f"/api/v1/transactions/{bill['id']}/reversal", {"amount": "20.00", "refund_no": "RF-9"},
                      headers=everything, status=201)
    testapp.post_json(f"/api/v1/cards/{card_no}/deposits", {"deposit_no": "D-55", "amount": "600.00",
                      "tender": "bank_card"}, headers=everything, status=201)
    settlement = testapp.post_json("/api/v1/settlements", {
        "card_no": card_no, "bill_no": "S-3", "operator": "alice",
        "items": [{"sku": "TEA", "qty": "1", "amount": "80.00"}],
        "tenders": [{"kind": "stored_value", "amount": "50.00"}, {"kind": "cash", "amount": "30.00"}]},
        headers=everything, status=201).json
    refund = testapp.post_json(f"/api/v1/settlements/{settlement['id']}/refunds", {"reason": "<b>cold</b> tea"},
                               headers=everything, status=201).json
    ledger.credit(seed.db, seed.points_account(card_no), 1000, kind=ledger.EARN, business_key=f"gift:{card_no}",
                  fingerprint="gift", expires_at=utcnow() + timedelta(days=30))
    seed.db.commit()
    testapp.post_json("/api/v1/rewards", {"code": "MUG", "name": "酒店马克杯 Hotel mug", "category": "item",
                                          "cost": "5.00", "stock": 10}, headers=everything, status=201)
    testapp.post_json("/api/v1/redemptions", {"card_no": card_no, "reward": "MUG", "request_no": "Q-1",
                                                           "quantity": 2, "collection": "later"},
                                   headers=everything, status=201).json
    seed.db.rollback()
    movement_id = seed.db.scalar(select(LedgerEntry.id).where(LedgerEntry.kind == "deposit"))
    bill_refund_id = seed.db.scalar(select(BillRefund.id).where(BillRefund.refund_no == "RF-9"))
    return {"bill": bill["id"], "card_movement": movement_id, "redemption": seed.db.scalar(select(Redemption.id)),
            "settlement_refund": refund["id"], "bill_refund": bill_refund_id}


FACTS = {
    "bill": ("EB-7", "120.00", "Points earned", "1 point(s) per 1 on 120.00", "RF-9", "-20.00", "李伟",
             "************0012"),
    "card_movement": ("D-55", "Deposit", "600.00", "Bonus value granted", "50.00", "Bank card", "Balances after",
                      "Stored value", "Bonus value"),
    "redemption": ("R00000001", "酒店马克杯 Hotel mug", "Quantity", "Awaiting pick-up", "-1000",
                   "Please collect the reward"),
    "settlement_refund": ("S-3", "Refund", "Returned to", "Stored value", "50.00", "Cash", "30.00",
                          "Points taken back", "-80.00"),
    "bill_refund": ("RF-9", "EB-7", "Refund", "-20.00", "Points taken back", "-20"),
}


@pytest.mark.parametrize("paper", ["80mm", "a4"])
def test_each_document_prints_its_facts_then_copies_numbered_per_document(testapp, seed, documents, paper):
    auth = key(seed)
    for kind, document_id in documents.items():
        url = f"/api/v1/receipts/{kind}/{document_id}?paper={paper}"
        original = testapp.get(url, headers=auth, status=200)
        html = original.text
        for fact in FACTS[kind]:
            assert fact in html, f"{fact!r} missing from the {kind} receipt"
        assert "8801000000000012" not in html and "COPY" not in html
        assert original.headers["X-LPS-Receipt-Copy"] == "0"
        assert original.headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert ("size: 80mm" if paper == "80mm" else "size: A4") in html
        copy = testapp.get(url, headers=auth, status=200)
        assert copy.headers["X-LPS-Receipt-Copy"] == "1" and "COPY" in copy.text and "copy 1" in copy.text
    # every document started at its own original, though their ids are alike
    for kind, document_id in documents.items():
        prints = testapp.get(f"/api/v1/receipts/{kind}/{document_id}/prints", headers=auth).json
        assert prints["kind"] == kind
        assert [(p["copy_no"], p["copy"], p["paper"]) for p in prints["prints"]] == [(0, False, paper), (1, True, paper)]
    seed.db.rollback()
    rows = seed.db.scalars(select(ReceiptPrint)).all()
    assert {(row.document, row.settlement_id) for row in rows} == {(kind, None) for kind in KINDS}


def test_staff_text_on_a_receipt_is_escaped(testapp, seed, documents):
    html = testapp.get(f"/api/v1/receipts/settlement_refund/{documents['settlement_refund']}",
                       headers=key(seed)).text
    assert "<b>cold</b>" not in html and "&lt;b&gt;cold&lt;/b&gt; tea" in html


def test_the_document_is_the_json_the_receipt_lays_out(testapp, seed, documents):
    auth = key(seed)
    movement = testapp.get(f"/api/v1/receipts/card_movement/{documents['card_movement']}/document", headers=auth).json
    assert (movement["movement"], movement["number"], movement["amount"], movement["bonus"], movement["tender"]) == (
        "deposit", "D-55", "600.00", "50.00", "bank_card")
    assert movement["balances"] == {"stored_value": "600.00", "bonus_value": "50.00"}  # as they were after it
    redemption = testapp.get(f"/api/v1/receipts/redemption/{documents['redemption']}/document", headers=auth).json
    assert (redemption["reward"]["code"], redemption["quantity"], redemption["points"], redemption["status"]) == (
        "MUG", 2, 1000, "awaiting_pickup")
    refund = testapp.get(f"/api/v1/receipts/settlement_refund/{documents['settlement_refund']}/document",
                         headers=auth).json
    assert [(t["kind"], t["amount"]) for t in refund["tenders"]] == [("stored_value", "50.00"), ("cash", "30.00")]
    assert refund["amount"] == "80.00" and refund["points"] > 0
    bill = testapp.get(f"/api/v1/receipts/bill/{documents['bill']}/document", headers=auth).json
    assert bill["points"] == 120 and bill["balances"] == {"points": 120}
    assert sum(line["points"] for line in bill["points_breakdown"]) == 120


def test_another_outlets_key_gets_404_and_nothing_is_recorded(testapp, seed, documents):
    spa = key(seed, "SPA")
    for kind, document_id in documents.items():
        for url in (f"/api/v1/receipts/{kind}/{document_id}", f"/api/v1/receipts/{kind}/{document_id}/document",
                    f"/api/v1/receipts/{kind}/{document_id}/prints"):
            assert testapp.get(url, headers=spa, status=404).json["fields"] == {"id": f"no such {kind}"}
        testapp.post(f"/api/v1/receipts/{kind}/{document_id}/print", headers=spa, status=404)
        testapp.get(f"/api/v1/receipts/{kind}/999999", headers=key(seed), status=404)
    seed.db.rollback()
    assert seed.db.scalars(select(ReceiptPrint)).all() == []


def test_bad_paths_and_scopes_are_refused(testapp, seed, documents):
    answer = testapp.get("/api/v1/receipts/invoice/1", headers=key(seed), status=404).json
    assert set(answer["fields"]) == {"kind"} and "card_movement" in answer["fields"]["kind"]
    testapp.get("/api/v1/receipts/bill/x", headers=key(seed), status=404)
    answer = testapp.get(f"/api/v1/receipts/bill/{documents['bill']}?paper=a5", headers=key(seed), status=400).json
    assert set(answer["fields"]) == {"paper"}
    testapp.get(f"/api/v1/receipts/bill/{documents['bill']}", headers=key(seed, scopes=["rewards"]), status=403)


@pytest.mark.parametrize("paper", ["58mm", "80mm"])
def test_the_thermal_receipt_of_each_document_is_gb18030_text_and_a_cut(seed, documents, paper):
    outlet_id = seed.db.scalar(select(Outlet.id).where(Outlet.code == "REST"))
    for kind, document_id in documents.items():
        document = build_document(seed.db, kind, document_id, outlet_id)
        parts = document_parts(document, time_zone=timezone.utc)
        for copy_no in (0, 2):
            lines = document_lines(parts, Layout(footer_text="谢谢光临"), paper=paper, copy_no=copy_no,
                                   outlet=document["outlet"]["name"], property_name=document["property"]["name"])
            for line in lines:
                assert columns_of(line.text) * (2 if line.large else 1) <= COLUMNS[paper], line
            stream = escpos_bytes(lines, paper=paper)
            assert stream.startswith(b"\x1b@" + CHINESE_MODE) and CUT in stream[-8:]
            assert "李伟".encode("gb18030") in stream and "李伟".encode("utf-8") not in stream
            assert "谢谢光临".encode("gb18030") in stream
            assert document["number"].encode() in stream
            assert (b"COPY" in stream) == (copy_no > 0)
            for fact in FACTS[kind]:
                if fact != "************0012" and columns_of(fact) < COLUMNS[paper] // 2:
                    assert fact.encode("gb18030") in stream, f"{fact!r} missing from the {kind} stream"


def test_a_thermal_print_of_a_document_goes_to_the_outlets_printer(testapp, seed, documents, network_printer):
    manager = key(seed, scopes=["outlets.manage"])
    auth = key(seed)
    url = f"/api/v1/receipts/card_movement/{documents['card_movement']}/print"
    testapp.post(url, headers=auth, status=404)  # no printer yet
    testapp.put_json("/api/v1/outlets/REST/receipt-printer",
                     {"connection": "network", "address": f"127.0.0.1:{network_printer.port}"}, headers=manager)
    first = testapp.post(url, headers=auth, status=201).json
    assert first == {"kind": "card_movement", "id": documents["card_movement"], "copy": False, "copy_no": 0,
                     "paper": "80mm", "bytes": first["bytes"]}
    wait_for(lambda: len(network_printer.jobs) == 1)
    job = network_printer.jobs[0]
    assert len(job) == first["bytes"] and b"D-55" in job and b"600.00" in job and CUT in job and b"COPY" not in job
    assert testapp.post(url, headers=auth, status=201).json["copy_no"] == 1
    wait_for(lambda: len(network_printer.jobs) == 2)
    assert b"COPY" in network_printer.jobs[1]
    redemption = testapp.post(f"/api/v1/receipts/redemption/{documents['redemption']}/print", headers=auth).json
    assert redemption["copy_no"] == 0  # numbered per document
    prints = testapp.get(f"/api/v1/receipts/card_movement/{documents['card_movement']}/prints", headers=auth).json
    assert [(p["copy_no"], p["template"]) for p in prints["prints"]] == [(0, "escpos"), (1, "escpos")]


def test_a_printer_out_of_reach_answers_503_and_the_next_print_is_the_original(testapp, seed, documents,
                                                                               network_printer):
    network_printer.close()
    testapp.put_json("/api/v1/outlets/REST/receipt-printer",
                     {"connection": "network", "address": f"127.0.0.1:{network_printer.port}"},
                     headers=key(seed, scopes=["outlets.manage"]))
    url = f"/api/v1/receipts/bill_refund/{documents['bill_refund']}/print"
    assert testapp.post(url, headers=key(seed), status=503).json["fields"] == {"printer": "unreachable"}
    seed.db.rollback()
    assert seed.db.scalars(select(ReceiptPrint)).all() == []
    assert testapp.get(f"/api/v1/receipts/bill_refund/{documents['bill_refund']}", headers=key(seed)).headers[
        "X-LPS-Receipt-Copy"] == "0"


def test_a_document_renders_without_the_api(seed, documents):
    html = render_document(build_document(seed.db, "redemption", documents["redemption"],
                                          seed.db.scalar(select(Outlet.id).where(Outlet.code == "REST"))), Layout(),
                           paper="80mm", copy_no=0, macros=load_template(MACROS_SPEC))
    assert "R00000001" in html and "Hotel mug" in html


def wait_for(condition, seconds=5):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_the_desk_links_a_refund_and_a_redemption_to_their_receipts(testapp, seed, documents):
    sign_in_as(testapp, seed, "desk-ann", "desk-pass-123", ("cashier",), ("REST",))
    settlement_id = seed.db.scalar(select(SettlementRefund.settlement_id))
    page = testapp.get(f"/cashier/settlements/{settlement_id}")
    link = page.html.select_one("#refunds a.document-receipt")["href"]
    assert link.endswith(f"/cashier/receipts/settlement_refund/{documents['settlement_refund']}")
    receipt = testapp.get(link)
    assert "Returned to" in receipt.text and "COPY" not in receipt.text
    assert receipt.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert "COPY" in testapp.get(link + "?paper=a4").text
    rewards_page = testapp.get("/rewards", params={"outlet": "REST", "card_no": seed.db.scalar(select(Card.card_no))})
    link = rewards_page.html.select_one("#redemptions a.document-receipt")["href"]
    assert "R00000001" in testapp.get(link).text
    for url in ("/cashier/receipts/redemption/999", "/cashier/receipts/invoice/1", "/cashier/receipts/bill/x"):
        testapp.get(url, status=404)


def test_the_desk_answers_another_outlets_document_as_unknown(testapp, seed, documents):
    sign_in_as(testapp, seed, "desk-bo", "desk-pass-123", ("cashier",), ("SPA",))
    testapp.get(f"/cashier/receipts/redemption/{documents['redemption']}", status=404)
    testapp.get(f"/cashier/receipts/bill/{documents['bill']}", status=404)


def test_a_document_receipt_prints_in_the_language_of_the_staff_members_screen(testapp, seed, documents):
    auth = {**key(seed), "Accept-Language": "zh-CN"}
    html = testapp.get(f"/api/v1/receipts/card_movement/{documents['card_movement']}", headers=auth).text
    for label in ("充值", "赠送金额", "银行卡", "本次后余额", "储值"):
        assert label in html, label
    html = testapp.get(f"/api/v1/receipts/redemption/{documents['redemption']}", headers=auth).text
    assert "待领取" in html and "请凭此小票到门店领取礼品" in html and "Awaiting pick-up" not in html
