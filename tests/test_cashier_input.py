"""Hostile input on the cashier's routes: every bad value answers 4xx naming its field, quickly, and
leaves the ledger as it was; and the OpenAPI document refuses exactly what the server refuses as
malformed (400), so the two cannot drift."""
import json
import time
from decimal import Decimal

import pytest
from sqlalchemy import func, insert, select

from lps_core.cards.luhn import with_check_digit
from lps_core.cards.models import CardType
from lps_core.cashier.models import Settlement, SettlementRefund
from lps_core.ledger.check import find_drift
from lps_core.ledger.models import LedgerEntry
from lps_core.members.services import Enrolment, approve_member, enrol_member
from lps_core.validation import _MONEY_MESSAGE as MONEY
CARD_NO = "must be a card number: 8 to 32 digits (spaces and dashes are ignored)"
NOT_A_STRING = "must be a string"
JSON_NUMBER = 'must be a decimal string such as "12.50", not a JSON number'


@pytest.fixture
def auth(seed):
    return {"Authorization": f"Bearer {seed.api_key('REST')}"}


@pytest.fixture
def card_no(seed, testapp, auth):
    """A prepaid card with 500.00 of stored value and a credit line, and one settlement of 90.00 on it."""
    seed.db.execute(insert(CardType).values(
        code="prepaid", name="Prepaid", prefix="8801", discount_rate=Decimal("0.1"), stored_value=True,
        credit_limit_cents=100000, initial_uses=0))
    member_id = enrol_member(seed.db, Enrolment(name="Hostile Tester", channel="desk", phone="+8613911110000"),
                             force_duplicate_phone=True)
    number = approve_member(seed.db, member_id, card_type_code="prepaid")
    seed.db.commit()
    testapp.post_json(f"/api/v1/cards/{number}/deposits", {"deposit_no": "D0", "amount": "500.00", "tender": "cash"},
                      headers=auth, status=201)
    testapp.post_json("/api/v1/settlements", settlement(number, bill_no="B0"), headers=auth, status=201)
    return number


@pytest.fixture
def settlement_id(seed, card_no):
    return seed.db.scalar(select(Settlement.id))


def settlement(number, **override):
    body = {"card_no": number, "bill_no": "B1",
            "items": [{"sku": "STEAK", "category": "food", "qty": "1", "amount": "100.00"}],
            "tenders": [{"kind": "stored_value", "amount": "60.00"}, {"kind": "cash", "amount": "30.00"}]}
    return {**body, **override}


def ledger_state(db):
    db.rollback()
    return (db.scalar(select(func.count()).select_from(LedgerEntry)),
            db.scalar(select(func.count()).select_from(Settlement)),
            db.scalar(select(func.count()).select_from(SettlementRefund)))


@pytest.fixture
def unchanged(seed, card_no):
    """Asserts, after the test, that the ledger and the settlements are as the fixtures left them."""
    before = ledger_state(seed.db)
    yield
    assert ledger_state(seed.db) == before
    assert find_drift(seed.db) == []


def tender(**fields):
    return [{"kind": "cash", "amount": "90.00", **fields}]


def item(**fields):
    return [{"sku": "STEAK", "amount": "100.00", **fields}]


BAD_SETTLEMENTS = [
    ({"tenders": tender(amount=90)}, {"tenders[0].amount": JSON_NUMBER}),
    ({"tenders": tender(amount=90.5)}, {"tenders[0].amount": JSON_NUMBER}),
    ({"tenders": tender(amount="1e300000")}, {"tenders[0].amount": "must not use an exponent"}),
    ({"tenders": tender(amount="90.")}, {"tenders[0].amount": "must have 1 or 2 digits after the point"}),
    ({"tenders": tender(amount=".5")}, {"tenders[0].amount": "must have a digit before the point"}),
    ({"tenders": tender(amount=" 90")}, {"tenders[0].amount": "must not have spaces around it"}),
    ({"tenders": tender(amount="+90")}, {"tenders[0].amount": "must not carry a sign"}),
    ({"tenders": tender(amount="\uff19\uff10")}, {"tenders[0].amount": "must use the digits 0 to 9"}),
    ({"tenders": tender(amount="9_0")}, {"tenders[0].amount": "must not contain separators such as '_' or ','"}),
    ({"tenders": tender(amount="NaN")}, {"tenders[0].amount": MONEY}),
    ({"tenders": tender(amount=True)}, {"tenders[0].amount": MONEY}),
    ({"tenders": tender(kind="uses", uses=True, amount="0")}, {"tenders[0].uses": "must be a whole number"}),
    ({"tenders": tender(kind="uses", uses=2**31, amount="0")},
     {"tenders[0].uses": "must be a whole number from 1 to 1000"}),
    ({"tenders": tender(kind="uses", uses=0, amount="0")}, {"tenders[0].uses": "must be a whole number from 1 to 1000"}),
    ({"tenders": tender(uses=1)}, {"tenders[0].uses": "applies only to a uses tender"}),
    ({"tenders": tender(kind="cash!")}, {"tenders[0].kind": "must be 1 to 64 letters, digits, '-' or '_'"}),
    ({"tenders": tender(kind="c" * 65)}, {"tenders[0].kind": "must be 1 to 64 letters, digits, '-' or '_'"}),
    ({"tenders": tender(reference="R\x00")}, {"tenders[0].reference": "must not contain NUL characters"}),
    ({"tenders": tender(reference="R" * 65)}, {"tenders[0].reference": "must be at most 64 characters"}),
    ({"tenders": tender(tip="1")}, {"tenders[0].tip": "is not a known field"}),
    ({"tenders": {"kind": "cash"}}, {"tenders": "must be a list"}),
    ({"tenders": []}, {"tenders": "must have at least 1 item"}),
    ({"items": item(amount=100)}, {"items[0].amount": JSON_NUMBER}),
    ({"items": item(amount="1e300000")}, {"items[0].amount": "must not use an exponent"}),
    ({"items": item(amount="1" * 13)}, {"items[0].amount": "must have at most 12 digits before the point"}),
    ({"items": item(qty=1.5)}, {"items[0].qty": 'must be a whole number or a decimal string such as "1.5" '
                                                '(at most 3 decimals)'}),
    ({"items": item(qty=True)}, {"items[0].qty": 'must be a whole number or a decimal string such as "1.5" '
                                                 '(at most 3 decimals)'}),
    ({"items": item(qty="1e5")}, {"items[0].qty": 'must be a whole number or a decimal string such as "1.5" '
                                                  '(at most 3 decimals)'}),
    ({"items": item(sku="S\x00")}, {"items[0].sku": "must not contain NUL characters"}),
    ({"items": item(category="c" * 65)}, {"items[0].category": "must be at most 64 characters"}),
    ({"items": []}, {"items": "must have at least 1 item"}),
    ({"items": item() * 501}, {"items": "must have at most 500 items"}),
    ({"amount": 100, "items": None}, {"amount": JSON_NUMBER}),
    ({"items": None}, {"amount": "is required when the bill has no items"}),
    ({"bill_no": ""}, {"bill_no": "must not be empty"}),
    ({"bill_no": "   "}, {"bill_no": "must not be empty"}),
    ({"bill_no": "B\x00"}, {"bill_no": "must not contain NUL characters"}),
    ({"bill_no": "B" * 65}, {"bill_no": "must be at most 64 characters"}),
    ({"bill_no": 1}, {"bill_no": "must be a string"}),
    ({"operator": "o" * 65}, {"operator": "must be at most 64 characters"}),
    ({"card_no": 8801000000000000}, {"card_no": NOT_A_STRING}),
    ({"card_no": "8801\x0000000000000"}, {"card_no": CARD_NO}),
    ({"card_no": "\uff18\uff18\uff10\uff11\uff10\uff10\uff10\uff10\uff10"},
     {"card_no": CARD_NO}),
    ({"pin": "\uff11\uff12\uff13\uff14"}, {"pin": "must be 4 to 6 digits"}),
    ({"pin": 1234}, {"pin": "must be 4 to 6 digits"}),
    ({"pin": "1234\n"}, {"pin": "must be 4 to 6 digits"}),
    ({"occurred_at": "2026-01-01T10:00:00"}, {"occurred_at": "must include a time-zone offset, such as +08:00 or Z"}),
    ({"occurred_at": 1767225600}, {"occurred_at": "must be an ISO 8601 date-time such as 2026-05-01T19:30:00+08:00"}),
    ({"tip": "1"}, {"tip": "is not a known field"}),
]


@pytest.mark.parametrize("override, fields", BAD_SETTLEMENTS)
def test_malformed_settlements_answer_400_naming_the_field(testapp, auth, card_no, unchanged, override, fields):
    answer = testapp.post_json("/api/v1/settlements", settlement(card_no, **override), headers=auth, status=400)
    assert answer.content_type == "application/problem+json"
    assert answer.json["fields"] == fields


@pytest.mark.parametrize("override, fields", [
    ({"amount": "99.00"}, {"amount": "differs from the sum of the items; send one or the other"}),
    ({"tenders": [{"kind": "stored_value", "amount": "45.00"}, {"kind": "stored_value", "amount": "45.00"}]},
     {"tenders[1]": "stored_value is given twice: a tender that takes from an account of the card or member may "
                    "appear once"}),
    ({"tenders": tender(kind="CASH")}, {"tenders[0]": "no such tender"}),
    ({"occurred_at": "9999-12-31T00:00:00Z"}, {"occurred_at": None}),
    ({"occurred_at": "1999-12-31T00:00:00Z"}, {"occurred_at": None}),
    ({"items": item(qty="100001")}, {"items[0].qty": None}),
    ({"tenders": tender(amount="0")}, {"tenders[0].amount": "must be greater than 0"}),
    ({"amount": "0.00", "items": None}, {"amount": "must be greater than 0"}),
    ({"items": item(amount="999999999999.99"), "tenders": tender(amount="899999999999.99")}, {"items": None}),
    ("mistyped", {"card_no": "check digit does not match: the number is mistyped"}),
    ("unknown", {"card_no": "no such card"}),
])
def test_well_formed_but_unusable_settlements_answer_422_naming_the_field(testapp, auth, card_no, unchanged,
                                                                        override, fields):
    if override == "mistyped":
        override = {"card_no": card_no[:-1] + str((int(card_no[-1]) + 1) % 10)}
    elif override == "unknown":
        override = {"card_no": with_check_digit("880199999999999")}
    answer = testapp.post_json("/api/v1/settlements", settlement(card_no, **override), headers=auth, status=422).json
    assert set(answer["fields"]) == set(fields)
    for name, message in fields.items():
        assert message is None or answer["fields"][name] == message


def test_huge_numbers_are_refused_by_their_text_quickly(testapp, auth, card_no, unchanged):
    headers = {**auth, "Content-Type": "application/json"}
    for raw in ('"1e300000"', "1e300000", "1" + "0" * 5000, '"' + "9" * 5000 + '"'):
        body = json.dumps(settlement(card_no)).replace('"amount": "60.00"', f'"amount": {raw}')
        started = time.monotonic()
        answer = testapp.post("/api/v1/settlements", body, headers=headers, status=400).json
        assert time.monotonic() - started < 2
        assert set(answer["fields"]) <= {"tenders[0].amount", "body"}


def test_deep_nesting_lone_surrogates_and_non_objects(testapp, auth, card_no, unchanged):
    headers = {**auth, "Content-Type": "application/json"}
    deep = '{"items": ' + "[" * 5000 + "]" * 5000 + "}"
    assert testapp.post("/api/v1/settlements", deep, headers=headers, status=400).json["fields"] == {
        "body": "must not nest deeper than 32 levels"}
    surrogate = json.dumps(settlement(card_no)).replace('"B1"', '"B\\ud800"')
    assert "\\ud800" in surrogate
    fields = testapp.post("/api/v1/settlements", surrogate, headers=headers, status=400).json["fields"]
    assert list(fields) == ["body"] and fields["body"].startswith("is not valid JSON")
    for raw in ("[1]", '"x"', "null", '{"a": '):
        assert testapp.post("/api/v1/settlements", raw, headers=headers, status=400).json["code"] == \
            "validation_failed"


@pytest.mark.parametrize("path", ["99999999999", "abc", "0", "-1", "1.5", "%EF%BC%91"])
def test_settlement_ids_out_of_range_answer_404(testapp, auth, settlement_id, unchanged, path):
    assert testapp.get(f"/api/v1/settlements/{path}", headers=auth, status=404).json["code"] == "not_found"
    assert testapp.post_json(f"/api/v1/settlements/{path}/refunds", {}, headers=auth, status=404).json["code"] == \
        "not_found"


@pytest.mark.parametrize("body, fields", [
    ({"amount": 10}, {"amount": JSON_NUMBER}),
    ({"amount": "1e300000", "refund_no": "R1"}, {"amount": "must not use an exponent"}),
    ({"amount": "-1", "refund_no": "R1"}, {"amount": "must be greater than 0"}),
    ({"amount": "10.00"}, {"refund_no": "is required for a partial refund, so that retrying it is safe"}),
    ({"refund_no": "R\x00"}, {"refund_no": "must not contain NUL characters"}),
    ({"reason": "r" * 201}, {"reason": "must be at most 200 characters"}),
    ({"operator": ["a"]}, {"operator": "must be a string"}),
    ({"tip": 1}, {"tip": "is not a known field"}),
])
def test_malformed_refunds_answer_400_naming_the_field(testapp, auth, settlement_id, unchanged, body, fields):
    answer = testapp.post_json(f"/api/v1/settlements/{settlement_id}/refunds", body, headers=auth, status=400)
    assert answer.json["fields"] == fields


MOVEMENTS = {"deposits": {"deposit_no": "D1", "amount": "10.00", "tender": "cash"},
             "uses": {"topup_no": "T1", "uses": 2, "amount": "10.00", "tender": "cash"},
             "credit-repayments": {"repayment_no": "P1", "amount": "10.00", "tender": "cash"}}


@pytest.mark.parametrize("route, override, fields", [
    ("deposits", {"amount": 10}, {"amount": JSON_NUMBER}),
    ("deposits", {"amount": "1e300000"}, {"amount": "must not use an exponent"}),
    ("deposits", {"tender": "gold"}, {"tender": "must be one of: cash, bank_card, transfer, other"}),
    ("deposits", {"reference": "\x00"}, {"reference": "must not contain NUL characters"}),
    ("deposits", {"deposit_no": "D" * 65}, {"deposit_no": "must be at most 64 characters"}),
    ("uses", {"uses": 2**31}, {"uses": "must be a whole number from 1 to 10000"}),
    ("uses", {"uses": True}, {"uses": "must be a whole number"}),
    ("uses", {"uses": 0}, {"uses": "must be a whole number from 1 to 10000"}),
    ("uses", {"amount": "-1"}, {"amount": "must not be negative"}),
    ("uses", {"reference": "R1"}, {"reference": "is not a known field"}),
    ("credit-repayments", {"amount": ".5"}, {"amount": "must have a digit before the point"}),
    ("credit-repayments", {"repayment_no": None}, {"repayment_no": "must be a string"}),
    ("credit-repayments", {"occurred_at": "2026-13-01T00:00:00Z"},
     {"occurred_at": "must be an ISO 8601 date-time such as 2026-05-01T19:30:00+08:00"}),
])
def test_malformed_movements_answer_400_naming_the_field(testapp, auth, card_no, unchanged, route, override, fields):
    body = {**MOVEMENTS[route], **override}
    answer = testapp.post_json(f"/api/v1/cards/{card_no}/{route}", body, headers=auth, status=400)
    assert answer.json["fields"] == fields


@pytest.mark.parametrize("route", sorted(MOVEMENTS))
def test_movements_on_a_card_number_that_names_no_card_answer_404(testapp, auth, card_no, unchanged, route):
    mistyped = card_no[:-1] + str((int(card_no[-1]) + 1) % 10)
    for path in ("abc", "9" * 41, mistyped, "%EF%BC%98" * 9):
        testapp.post_json(f"/api/v1/cards/{path}/{route}", MOVEMENTS[route], headers=auth, status=404)


def test_movements_dated_out_of_the_window_answer_422(testapp, auth, card_no, unchanged):
    for when in ("2099-01-01T00:00:00Z", "2001-01-01T00:00:00+08:00"):
        body = {**MOVEMENTS["deposits"], "occurred_at": when}
        answer = testapp.post_json(f"/api/v1/cards/{card_no}/deposits", body, headers=auth, status=422).json
        assert set(answer["fields"]) == {"occurred_at"}
    body = {**MOVEMENTS["deposits"], "amount": "0.00"}
    answer = testapp.post_json(f"/api/v1/cards/{card_no}/deposits", body, headers=auth, status=422).json
    assert answer["fields"] == {"amount": "must be greater than 0"}


@pytest.mark.parametrize("query, status, fields", [
    ("card_no=8801%0000000000000", 400, {"card_no"}),
    ("card_no=" + "8" * 41, 400, {"card_no"}),
    ("name=%00%00", 400, {"name"}),
    ("name=a", 400, {"name"}),
    ("phone=" + "1" * 33, 400, {"phone"}),
    ("name=zhao&name=qian", 400, {"name"}),
    ("card_no=", 400, {"card_no"}),
    ("", 422, {"card_no"}),
    ("name=zhao&phone=%2B8613911110000", 422, {"card_no"}),
])
def test_malformed_look_ups_name_the_field(testapp, auth, card_no, query, status, fields):
    answer = testapp.get(f"/api/v1/cashier/lookup?{query}", headers=auth, status=status).json
    assert set(answer["fields"]) == fields


def test_unknown_query_names_are_ignored_by_the_look_up(testapp, auth, card_no):
    answer = testapp.get("/api/v1/cashier/lookup", {"card_no": card_no, "_": "1700000000"}, headers=auth).json
    assert [match["card_no"] for match in answer["matches"]] == [card_no]


def request_schema(document, path, method="post"):
    """The validator of a request body's schema, with ECMAScript's regular expressions, as the document's
    readers apply them (Python's `$` would also match before a final newline), and formats asserted."""
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    schema = document["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    return jsonschema_rs.Draft202012Validator({**schema, "components": document["components"]}, validate_formats=True)


def test_the_document_refuses_exactly_what_the_server_refuses_as_malformed(testapp, auth, card_no, unchanged):
    """Every body above that the server answers 400 breaks the document's schema; the ones it answers
    422 (well formed, but unusable) and the good ones satisfy it."""
    document = testapp.get("/api/v1/openapi.json").json
    settle_schema = request_schema(document, "/api/v1/settlements")
    for override, _ in BAD_SETTLEMENTS:
        body = settlement(card_no, **override)
        assert not settle_schema.is_valid(body), override
    for override in ({}, {"amount": "99.00"}, {"items": None, "amount": "100.00"},
                     {"tenders": [{"kind": "uses", "amount": "0.00"}, {"kind": "uses", "amount": "1.00", "uses": 2}]},
                     {"card_no": card_no[:-1] + str((int(card_no[-1]) + 1) % 10)},
                     {"tenders": [{"kind": "credit", "amount": "1.00"}, {"kind": "credit", "amount": "1.00"}]},
                     {"tenders": tender(kind="CASH")}, {"tenders": tender(kind="room_charge")}):
        assert settle_schema.is_valid(settlement(card_no, **override)), override
    refund_schema = request_schema(document, "/api/v1/settlements/{id}/refunds")
    assert not refund_schema.is_valid({"amount": "10.00"})
    assert refund_schema.is_valid({"amount": None}) and refund_schema.is_valid({})
    assert refund_schema.is_valid({"amount": "10.00", "refund_no": "R1"})
    uses_schema = request_schema(document, "/api/v1/cards/{card_no}/uses")
    assert not uses_schema.is_valid({**MOVEMENTS["uses"], "uses": True})
    assert uses_schema.is_valid({"topup_no": "T1", "uses": 1, "tender": "cash"})
    operations = {(path, method): operation for path, methods in document["paths"].items()
                  for method, operation in methods.items()}
    assert operations[("/api/v1/settlements", "post")]["operationId"] == "settle"
    assert {parameter["name"] for parameter in operations[("/api/v1/cashier/lookup", "get")]["parameters"]} == {
        "card_no", "phone", "name"}
    assert operations[("/api/v1/settlements/{id}", "get")]["parameters"][0]["schema"]["maximum"] == 2**31 - 1
