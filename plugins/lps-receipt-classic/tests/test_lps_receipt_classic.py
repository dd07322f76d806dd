"""The "classic" receipt template: registered by name, shipped with its catalog, printed for an
outlet that chooses it, in English and in Chinese."""
import gettext
from importlib.resources import files

import pytest
from babel.messages.pofile import read_po

import lps_receipt_classic

pytest_plugins = ["lps_core.testing"]

PACKAGE = files("lps_receipt_classic")
CATALOG = PACKAGE / "locale" / "zh_CN" / "LC_MESSAGES"


def test_the_template_is_registered_under_its_name(plugins):
    assert plugins.pm.get_plugin("receipt_classic") is lps_receipt_classic
    assert {"classic": "lps_receipt_classic:templates/classic.pt"} in plugins.hook.lps_receipt_templates(settings={})


def test_the_template_and_its_catalog_ship_as_package_data():
    assert (PACKAGE / "templates" / "classic.pt").is_file()
    assert (CATALOG / "lps_receipts.po").is_file() and (CATALOG / "lps_receipts.mo").is_file()


def test_the_compiled_catalog_holds_every_translation_of_the_po_file():
    with (CATALOG / "lps_receipts.po").open("rb") as po:
        catalog = read_po(po)
    with (CATALOG / "lps_receipts.mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    translations = {message.id: message.string for message in catalog if message.id}
    assert translations
    assert {msgid: compiled.gettext(msgid) for msgid in translations} == translations


def manager(seed):
    return {"Authorization": f"Bearer {seed.api_key('REST', scopes=['outlets.manage'])}"}


@pytest.fixture
def settled(testapp, seed):
    """A member's bill at REST, paid in cash; the settlement document and a cashier's key."""
    cashier = {"Authorization": f"Bearer {seed.api_key('REST', scopes=['cashier'])}"}
    body = {"card_no": seed.member_card(name="Ann Lee"), "bill_no": "B-1001", "operator": "alice",
            "items": [{"sku": "STEAK", "category": "food", "qty": "2", "amount": "100.00"}],
            "tenders": [{"kind": "cash", "amount": "100.00"}]}
    document = testapp.post_json("/api/v1/settlements", body, headers=cashier, status=201).json
    return document, cashier


def test_an_outlet_that_chooses_the_template_prints_with_it(testapp, seed, settled):
    document, cashier = settled
    layout = testapp.put_json("/api/v1/outlets/REST/receipt-layout", {"template": "classic"},
                              headers=manager(seed)).json
    assert layout["template"] == "classic"
    response = testapp.get(f"/api/v1/settlements/{document['id']}/receipt", headers=cashier, status=200)
    assert response.headers["X-LPS-Receipt-Template"] == "classic"
    html = response.text
    for text in ("class=\"classic\"", "Bill B-1001", "Your bill", "2 STEAK", "100.00", "Cash", "Signature"):
        assert text in html, f"{text!r} missing"


def test_its_own_labels_print_in_chinese_with_lps_labels(testapp, seed, settled):
    document, cashier = settled
    testapp.put_json("/api/v1/outlets/REST/receipt-layout", {"template": "classic"}, headers=manager(seed))
    html = testapp.get(f"/api/v1/settlements/{document['id']}/receipt",
                       headers={**cashier, "Accept-Language": "zh-CN"}).text
    assert 'lang="zh_CN"' in html or 'lang="zh-CN"' in html
    for text in ("账单 B-1001", "您的账单", "签名"):
        assert text in html, f"{text!r} missing"


def test_an_unknown_template_is_refused_naming_the_field(testapp, seed):
    answer = testapp.put_json("/api/v1/outlets/REST/receipt-layout", {"template": "classic-typo"},
                              headers=manager(seed), status=422).json
    assert "template" in str(answer)
