"""Receipts: layouts per outlet, both LPS templates and a plugin's, escaping of staff text,
reprints marked COPY, and the outlet check. HTTP tests run on SQLite and PostgreSQL."""
import base64
import threading
from concurrent.futures import ThreadPoolExecutor
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from lps_core.contract import hookimpl
from lps_core.members.models import Tier
from lps_core.outlets.models import Outlet
from lps_core.plugins import PluginError, load_plugins
from lps_core.receipts.services import FIELDS, Layout, mask_card_no, render_receipt
from lps_core.receipts.template_registry import MACROS_SPEC, load_receipt_templates, load_template

DOCUMENT = {
    "id": 1, "outlet": {"code": "REST", "name": "Restaurant"}, "property": {"code": "T", "name": "Test Hotel"},
    "bill_no": "B-1001", "occurred_at": "2026-11-25T10:30:00Z", "operator": "alice",
    "card": {"card_no": "8800123456789012", "type": "standard", "type_name": "Standard"},
    "member": {"id": 1, "name": "Ann Lee"}, "tier": {"code": "gold", "name": "Gold", "discount_rate": "0.1"},
    "items": [{"sku": "STEAK", "category": "food", "qty": "2", "amount": "100.00", "discount_rate": "0.1",
               "discount": "10.00", "charged": "90.00"}],
    "gross": "100.00", "discount": "10.00", "charged": "90.00",
    "tenders": [{"kind": "stored_value", "amount": "50.00", "uses": None, "principal": "45.00", "bonus": "5.00",
                 "reference": None},
                {"kind": "cash", "amount": "40.00", "uses": None, "principal": None, "bonus": None, "reference": None}],
    "points": 90, "points_breakdown": [],
    "balances": {"points": 1234, "stored_value": "150.00", "bonus_value": "10.00", "uses": None,
                 "credit_used": None, "credit_left": None},
    "refunds": [{"refund_no": "R-1", "amount": "10.00", "points": 10, "created_at": "2026-11-25T11:00:00Z"}],
}
HOSTILE = "Welcome <script>alert(1)</script> ${__import__('os').getcwd()}"


@pytest.fixture(scope="module")
def templates(plugins):
    return load_receipt_templates(plugins, {})


@pytest.fixture(scope="module")
def macros():
    return load_template(MACROS_SPEC)


def render(templates, macros, name, layout=Layout(), copy_no=0, document=DOCUMENT):
    return render_receipt(templates[name], document, layout, paper="80mm", copy_no=copy_no, macros=macros,
                          time_zone=ZoneInfo("Asia/Shanghai"))


@pytest.mark.parametrize("name", ["lps-80mm", "lps-a4", "classic"])
def test_a_receipt_shows_the_whole_settlement(templates, macros, name):
    html = render(templates, macros, name, Layout(header_text="Thank you\nfor dining", footer_text="VAT no. 123"))
    for text in ("Restaurant", "Test Hotel", "B-1001", "2026-11-25 18:30", "Ann Lee", "************9012", "Gold",
                 "STEAK", "100.00", "-10.00", "90.00", "Stored value", "Cash", "40.00", "Points earned",
                 "1234", "150.00", "R-1", "Signature", "Thank you", "for dining", "VAT no. 123"):
        assert text in html, f"{text!r} missing from {name}"
    assert "8800123456789012" not in html
    assert "COPY" not in html


def test_the_papers_differ(templates, macros):
    assert "size: 80mm" in render(templates, macros, "lps-80mm")
    assert "size: A4" in render(templates, macros, "lps-a4")


@pytest.mark.parametrize("name", ["lps-80mm", "lps-a4"])
def test_staff_text_is_shown_escaped_and_never_run(templates, macros, name):
    html = render(templates, macros, name, Layout(header_text=HOSTILE, footer_text=HOSTILE))
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "${__import__('os').getcwd()}" in html  # printed as typed, not evaluated


@pytest.mark.parametrize("name", ["lps-80mm", "lps-a4"])
def test_parts_switched_off_are_absent(templates, macros, name):
    html = render(templates, macros, name, Layout(fields=("items", "tenders")))
    for text in ("Ann Lee", "9012", "Gold", "Points earned", "1234", "Signature", "R-1"):
        assert text not in html
    assert "STEAK" in html and "Cash" in html and "90.00" in html


def test_an_anonymous_card_prints_without_member_or_points(templates, macros):
    html = render(templates, macros, "lps-80mm", document={**DOCUMENT, "member": None, "tier": None, "refunds": []})
    assert "Member" not in html and "Points earned" not in html and "9012" in html


def test_a_reprint_is_marked_copy_and_numbered(templates, macros):
    assert "COPY" in render(templates, macros, "lps-80mm", copy_no=2)
    assert "copy 2" in render(templates, macros, "lps-a4", copy_no=2)


def test_card_numbers_keep_only_the_last_four_digits():
    assert mask_card_no("8800123456789012") == "************9012"
    assert mask_card_no("123") == "123"


def test_the_example_plugin_registers_its_template(templates):
    assert {"lps-80mm", "lps-a4", "classic"} <= set(templates)


class TemplatesPlugin:
    """A plugin object registering the receipt templates it is given."""

    def __init__(self, provided):
        self.provided = provided

    @hookimpl
    def lps_receipt_templates(self):
        return self.provided


def test_a_plugin_template_that_is_missing_stops_start_up_with_its_name():
    plugins = load_plugins({}, [("bad_receipts", TemplatesPlugin({"bad": "lps_core.receipts:templates/none.pt"}))])
    with pytest.raises(PluginError, match="plugin 'bad_receipts' failed in lps_receipt_templates: .*none.pt"):
        load_receipt_templates(plugins, {})


def test_two_plugins_may_not_register_one_template_name():
    plugins = load_plugins({}, [("dup", TemplatesPlugin({"lps-80mm": "lps_core.receipts:templates/receipt_a4.pt"}))])
    with pytest.raises(PluginError, match="receipt template 'lps-80mm' is provided by both"):
        load_receipt_templates(plugins, {})


# --- the layout API ---------------------------------------------------------------------------

def manager(seed, outlet="REST"):
    return {"Authorization": f"Bearer {seed.api_key(outlet, scopes=['outlets.manage'])}"}


def test_an_outlet_without_a_layout_gets_the_defaults(testapp, seed):
    answer = testapp.get("/api/v1/outlets/REST/receipt-layout", headers=manager(seed)).json
    assert answer == {"outlet": "REST", "header_text": None, "footer_text": None, "logo": None, "paper": "80mm",
                      "template": "lps-80mm", "fields": list(FIELDS), "default": True}


def test_a_layout_is_saved_and_read_back(testapp, seed):
    logo = "data:image/png;base64," + base64.b64encode(b"\x89PNG fake").decode()
    body = {"header_text": "Welcome", "footer_text": "Bye", "logo": logo, "paper": "a4", "template": "lps-a4",
            "fields": ["signature", "items"]}
    saved = testapp.put_json("/api/v1/outlets/REST/receipt-layout", body, headers=manager(seed)).json
    assert saved["fields"] == ["items", "signature"] and saved["default"] is False
    answer = testapp.get("/api/v1/outlets/REST/receipt-layout", headers=manager(seed)).json
    assert answer == {"outlet": "REST", **body, "fields": ["items", "signature"], "default": False}
    answer = testapp.put_json("/api/v1/outlets/REST/receipt-layout", {"paper": "a4"}, headers=manager(seed)).json
    assert answer["template"] == "lps-a4" and answer["header_text"] is None


def test_a_bad_layout_names_every_bad_field(testapp, seed):
    body = {"header_text": "x" * 501, "footer_text": 3, "logo": "javascript:alert(1)", "paper": "a5",
            "template": "fancy", "fields": ["member", "ssn"], "colour": "red"}
    answer = testapp.put_json("/api/v1/outlets/REST/receipt-layout", body, headers=manager(seed), status=400).json
    assert set(answer["fields"]) == {"header_text", "footer_text", "logo", "paper", "fields[1]", "colour"}
    answer = testapp.put_json("/api/v1/outlets/REST/receipt-layout", {"template": "fancy"}, headers=manager(seed),
                              status=422).json
    assert set(answer["fields"]) == {"template"} and "lps-80mm" in answer["fields"]["template"]


@pytest.mark.parametrize("logo", ["data:image/svg+xml;base64,PHN2Zz4=", "data:image/png;base64,not base64!",
                                  "https://x.example/" + "a" * 48_000, "ftp://x.example/logo.png",
                                  'https://x.example/"onerror="alert(1)'])
def test_a_bad_logo_is_refused(testapp, seed, logo):
    answer = testapp.put_json("/api/v1/outlets/REST/receipt-layout", {"logo": logo}, headers=manager(seed),
                              status=400).json
    assert set(answer["fields"]) == {"logo"}


def test_the_layout_api_needs_its_scope_and_a_real_outlet(testapp, seed):
    cashier = {"Authorization": f"Bearer {seed.api_key('REST', scopes=['cashier'])}"}
    testapp.get("/api/v1/outlets/REST/receipt-layout", headers=cashier, status=403)
    testapp.put_json("/api/v1/outlets/NOPE/receipt-layout", {}, headers=manager(seed), status=404)


# --- printing real settlements ----------------------------------------------------------------

@pytest.fixture
def settled(testapp, seed):
    """A gold member's bill at REST (10 % tier discount), paid part cash, part bank card; and a cashier key."""
    seed.db.execute(update(Tier).where(Tier.code == "gold").values(discount_rate="0.1"))
    seed.db.commit()
    card_no = seed.member_card(name="Ann Lee", tier="gold")
    cashier = {"Authorization": f"Bearer {seed.api_key('REST', scopes=['cashier'])}"}
    body = {"card_no": card_no, "bill_no": "B-1001", "operator": "alice",
            "items": [{"sku": "STEAK", "category": "food", "qty": "2", "amount": "100.00"}],
            "tenders": [{"kind": "cash", "amount": "40.00"}, {"kind": "bank_card", "amount": "50.00"}]}
    document = testapp.post_json("/api/v1/settlements", body, headers=cashier, status=201).json
    return document, card_no, cashier


def receipt_url(document, paper=None):
    return f"/api/v1/settlements/{document['id']}/receipt" + (f"?paper={paper}" if paper else "")


@pytest.mark.parametrize("paper", ["80mm", "a4"])
def test_a_settlement_prints_on_both_papers(testapp, seed, settled, paper):
    document, card_no, cashier = settled
    testapp.put_json("/api/v1/outlets/REST/receipt-layout", {"header_text": "Garden Restaurant",
                     "footer_text": "See you soon"}, headers=manager(seed))
    response = testapp.get(receipt_url(document, paper), headers=cashier, status=200)
    assert response.content_type == "text/html" and response.headers["X-LPS-Receipt-Copy"] == "0"
    assert "script-src" not in response.headers["Content-Security-Policy"]
    html = response.text
    assert ("size: 80mm" if paper == "80mm" else "size: A4") in html
    for text in ("Restaurant", "Test Hotel", "B-1001", "alice", "Ann Lee", "*" * (len(card_no) - 4) + card_no[-4:],
                 "Gold", "STEAK", "100.00", "-10.00", "90.00", "Cash", "Bank card", "40.00", "50.00",
                 "Points earned", f"<strong>{document['points']}</strong>", "Balances after this bill",
                 "Signature", "Garden Restaurant", "See you soon"):
        assert text in html, f"{text!r} missing"
    assert card_no not in html and "COPY" not in html


def test_every_later_print_is_a_numbered_copy(testapp, seed, settled):
    document, _, cashier = settled
    assert "COPY" not in testapp.get(receipt_url(document), headers=cashier).text
    second = testapp.get(receipt_url(document, "a4"), headers=cashier)
    assert "COPY" in second.text and "copy 1" in second.text and second.headers["X-LPS-Receipt-Copy"] == "1"
    assert "copy 2" in testapp.get(receipt_url(document), headers=cashier).text
    prints = testapp.get(receipt_url(document) + "/prints", headers=cashier).json["prints"]
    assert [(p["copy"], p["copy_no"], p["paper"], p["template"]) for p in prints] == [
        (False, 0, "80mm", "lps-80mm"), (True, 1, "a4", "lps-a4"), (True, 2, "80mm", "lps-80mm")]


def test_the_layout_decides_the_template_paper_and_parts(testapp, seed, settled):
    document, _, cashier = settled
    hostile = {"header_text": HOSTILE, "footer_text": "<b>bold</b>", "paper": "80mm", "template": "classic",
               "fields": ["items", "tenders"]}
    testapp.put_json("/api/v1/outlets/REST/receipt-layout", hostile, headers=manager(seed))
    response = testapp.get(receipt_url(document), headers=cashier)
    html = response.text
    assert response.headers["X-LPS-Receipt-Template"] == "classic" and 'class="classic"' in html
    assert "<script>" not in html and "&lt;script&gt;" in html and "${__import__('os').getcwd()}" in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "STEAK" in html and "Bank card" in html
    for text in ("Ann Lee", "Gold", "Points earned", "Balances after this bill", "Signature"):
        assert text not in html
    a4 = testapp.get(receipt_url(document, "a4"), headers=cashier)
    assert a4.headers["X-LPS-Receipt-Template"] == "lps-a4" and "size: A4" in a4.text


def test_another_outlets_key_may_not_print_the_receipt(testapp, seed, settled):
    document, _, _ = settled
    spa = {"Authorization": f"Bearer {seed.api_key('SPA', scopes=['cashier'])}"}
    answer = testapp.get(receipt_url(document), headers=spa, status=404).json
    assert answer["fields"] == {"id": "no such settlement"}
    testapp.get(receipt_url(document) + "/prints", headers=spa, status=404)
    rest = {"Authorization": f"Bearer {seed.api_key('REST', scopes=['cashier'])}"}
    assert testapp.get(receipt_url(document) + "/prints", headers=rest).json["prints"] == []


def test_bad_receipt_requests_are_refused(testapp, settled):
    document, _, cashier = settled
    answer = testapp.get(receipt_url(document) + "?paper=a5&colour=red", headers=cashier, status=400).json
    assert set(answer["fields"]) == {"paper", "colour"}
    testapp.get("/api/v1/settlements/999999/receipt", headers=cashier, status=404)
    testapp.get("/api/v1/settlements/x/receipt", headers=cashier, status=404)


def test_a_reprint_lists_the_refunds_made_since(testapp, settled):
    document, _, cashier = settled
    assert "Refunds" not in testapp.get(receipt_url(document), headers=cashier).text
    testapp.post_json(f"/api/v1/settlements/{document['id']}/refunds", {"refund_no": "R-7", "amount": "9.00"},
                      headers=cashier, status=201)
    html = testapp.get(receipt_url(document), headers=cashier).text
    assert "Refunds" in html and "R-7" in html and "-9.00" in html and "COPY" in html



# --- the staff member's language ----------------------------------------------------------------

@pytest.mark.parametrize("paper", ["80mm", "a4"])
def test_a_receipt_prints_in_the_language_of_the_staff_members_screen(testapp, settled, paper):
    document, _, cashier = settled
    english = testapp.get(receipt_url(document, paper), headers={**cashier, "Accept-Language": "en-GB"}).text
    for text in ("Receipt B-1001", "Bill no.", "Cashier", "Total", "To pay", "Cash", "Points earned", "Signature"):
        assert text in english, f"{text!r} missing"
    assert "签名" not in english and '<html lang="en"' in english
    chinese = testapp.get(receipt_url(document, paper), headers={**cashier, "Accept-Language": "zh-CN,zh;q=0.9"}).text
    assert '<html lang="zh-CN"' in chinese
    for text in ("小票 B-1001", "单号", "收银员", "会员", "合计", "应付", "现金", "银行卡", "本次积分",
                 "本次消费后余额", "签名", "副本", "(第 1 份副本)"):
        assert text in chinese, f"{text!r} missing"
    assert "Signature" not in chinese and "Cash" not in chinese and "COPY" not in chinese and "Ann Lee" in chinese
    assert "(copy 2)" in testapp.get(receipt_url(document, paper), headers={**cashier, "Accept-Language": "en"}).text


def test_the_language_switch_of_the_staff_screens_decides_the_receipts_language(testapp, settled):
    document, _, cashier = settled
    testapp.get("/locale/zh_CN", status=303)
    assert "签名" in testapp.get(receipt_url(document), headers={**cashier, "Accept-Language": "en"}).text



def test_a_plugins_template_prints_its_own_labels_in_chinese_too(testapp, seed, settled):
    document, _, cashier = settled
    testapp.put_json("/api/v1/outlets/REST/receipt-layout", {"template": "classic"}, headers=manager(seed))
    html = testapp.get(receipt_url(document), headers={**cashier, "Accept-Language": "zh-CN"}).text
    assert 'class="classic"' in html and "账单 B-1001" in html and "您的账单" in html and "签名" in html

def test_kinds_without_a_label_print_as_stored(templates, macros):
    document = {**DOCUMENT, "tenders": [{"kind": "wechat_pay", "amount": "90.00", "uses": None, "bonus": None,
                                         "reference": None}],
                "balances": {"points": 1, "loyalty_miles": 7}}
    html = render(templates, macros, "lps-80mm", document=document)
    assert "wechat_pay" in html and "loyalty_miles" in html


def test_a_count_card_prints_its_uses(templates, macros):
    tender = {"kind": "uses", "amount": "0.00", "uses": 1, "bonus": None, "reference": None}
    one = render(templates, macros, "lps-80mm", document={**DOCUMENT, "tenders": [tender]})
    three = render(templates, macros, "lps-80mm", document={**DOCUMENT, "tenders": [{**tender, "uses": 3}]})
    assert "Card use (1 use)" in one and "(3 uses)" in three

def test_simultaneous_prints_give_one_original(engine, settled, templates, macros):
    """Each thread in its own transaction, as two tills would be: the settlement row lock (PostgreSQL)
    or BEGIN IMMEDIATE (SQLite) lets exactly one of them print the original."""
    from sqlalchemy.orm import Session

    from lps_core.earning.services import OutletContext
    from lps_core.receipts.services import print_receipt

    document = settled[0]
    with Session(engine) as db:
        outlet = OutletContext(db.scalar(select(Outlet.id).where(Outlet.code == "REST")), "REST")
    barrier = threading.Barrier(6)

    def print_one(_):
        with Session(engine) as db:
            barrier.wait()
            printed = print_receipt(db, templates, document["id"], outlet, macros=macros)
            db.commit()
            return printed.copy_no

    with ThreadPoolExecutor(6) as pool:
        assert sorted(pool.map(print_one, range(6))) == [0, 1, 2, 3, 4, 5]
