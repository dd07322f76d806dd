"""Hostile input on the card and receipt routes: every bad value answers 4xx naming its field, quickly,
and changes nothing; and the OpenAPI document refuses exactly the bodies the server refuses as
malformed (400), while it accepts the ones refused as unusable (422), so the two cannot drift."""
import json
import time

import jsonschema_rs
import pytest
from sqlalchemy import func, select

from lps_core.cards.models import Card, CardType
from lps_core.ledger.models import LedgerEntry
from lps_core.receipts.models import ReceiptLayout

GOOD_TYPE = {"code": "gym", "name": "Gym", "prefix": "66", "points_multiplier": "1.5", "discount_rate": "0.1",
             "discount_overrides": [{"category": "drinks", "rate": "0.2"}], "stored_value": True,
             "deposit_bonuses": [{"min_deposit": "100.00", "bonus": "10.00"}], "initial_uses": 10,
             "credit_limit": "500.00", "credit_warning_ratio": "0.8", "validity_days": 365}


@pytest.fixture
def manage(seed):
    return {"Authorization": f"Bearer {seed.api_key('REST', scopes=['cards.manage', 'outlets.manage', 'cashier'])}"}


@pytest.fixture
def card_no(seed):
    return seed.member_card()


@pytest.fixture
def unchanged(seed):
    """Asserts after the test that no card type, card, ledger entry or receipt layout changed."""
    def state():
        db = seed.db
        db.rollback()
        return ([(t.code, t.name, t.prefix, t.credit_limit_cents, t.discount_overrides, t.valid_to)
                 for t in db.scalars(select(CardType).order_by(CardType.id))],
                [(c.card_no, c.status, c.status_reason, c.pin_hash, c.valid_to)
                 for c in db.scalars(select(Card).order_by(Card.id))],
                db.scalar(select(func.count()).select_from(LedgerEntry)),
                db.scalar(select(func.count()).select_from(ReceiptLayout)))
    before = state()
    yield
    assert state() == before


def mistyped(card_no):
    return card_no[:-1] + str((int(card_no[-1]) + 1) % 10)


# --- Card types -------------------------------------------------------------------------------------

BAD_CARD_TYPES = [
    ({"points_multiplier": 1.5}, "points_multiplier"),
    ({"discount_rate": "1e300000"}, "discount_rate"),
    ({"discount_rate": "0."}, "discount_rate"),
    ({"discount_rate": ".5"}, "discount_rate"),
    ({"discount_rate": " 0.1"}, "discount_rate"),
    ({"discount_rate": "+0.1"}, "discount_rate"),
    ({"discount_rate": "\uff10.\uff11"}, "discount_rate"),
    ({"discount_rate": "NaN"}, "discount_rate"),
    ({"credit_warning_ratio": "00.5"}, "credit_warning_ratio"),
    ({"credit_limit": 500}, "credit_limit"),
    ({"credit_limit": "1e300000"}, "credit_limit"),
    ({"credit_limit": "10."}, "credit_limit"),
    ({"credit_limit": ".5"}, "credit_limit"),
    ({"credit_limit": " 1"}, "credit_limit"),
    ({"credit_limit": "+1"}, "credit_limit"),
    ({"credit_limit": "\uff11\uff10"}, "credit_limit"),
    ({"credit_limit": "1_000"}, "credit_limit"),
    ({"credit_limit": "9" * 13}, "credit_limit"),
    ({"name": "Gym\x00"}, "name"),
    ({"name": "G" * 101}, "name"),
    ({"name": "   "}, "name"),
    ({"name": ["Gym"]}, "name"),
    ({"code": "g" * 33}, "code"),
    ({"code": "gym\x00"}, "code"),
    ({"prefix": "\uff16\uff16"}, "prefix"),
    ({"prefix": 66}, "prefix"),
    ({"prefix": "123456789"}, "prefix"),
    ({"initial_uses": 2**31}, "initial_uses"),
    ({"initial_uses": True}, "initial_uses"),
    ({"initial_uses": 5.5}, "initial_uses"),
    ({"validity_days": 2**63}, "validity_days"),
    ({"validity_days": 0}, "validity_days"),
    ({"stored_value": "true"}, "stored_value"),
    ({"stored_value": 1}, "stored_value"),
    ({"valid_to": "2030-01-01T00:00:00"}, "valid_to"),
    ({"valid_to": "tomorrow"}, "valid_to"),
    ({"uses_outlets": []}, "uses_outlets"),
    ({"uses_outlets": ["R E S T"]}, "uses_outlets[0]"),
    ({"discount_overrides": [{"rate": "0.1"}]}, "discount_overrides[0]"),
    ({"discount_overrides": [{"category": "x", "rate": "0.1", "colour": "red"}]}, "discount_overrides[0].colour"),
    ({"discount_overrides": [{"category": "x"}]}, "discount_overrides[0].rate"),
    ({"discount_overrides": {"category": "x", "rate": "0.1"}}, "discount_overrides"),
    ({"discount_overrides": [{"category": "x", "rate": "0.1"}] * 101}, "discount_overrides"),
    ({"deposit_bonuses": [{"min_deposit": 100, "bonus": "1.00"}]}, "deposit_bonuses[0].min_deposit"),
    ({"colour": "red"}, "colour"),
]


@pytest.mark.parametrize("override, field", BAD_CARD_TYPES)
def test_malformed_card_types_answer_400_naming_the_field(testapp, manage, unchanged, override, field):
    answer = testapp.post_json("/api/v1/card-types", {**GOOD_TYPE, **override}, headers=manage, status=400)
    assert answer.content_type == "application/problem+json"
    assert set(answer.json["fields"]) == {field} and answer.json["fields"][field]


@pytest.mark.parametrize("override, field", [
    ({"valid_to": "2099-01-01T00:00:00Z"}, "valid_to"),
    ({"valid_from": "2027-01-01T00:00:00Z", "valid_to": "2026-12-01T00:00:00Z"}, "valid_to"),
    ({"uses_outlets": ["NOWHERE"]}, "uses_outlets"),
    ({"discount_overrides": [{"outlet": "GYM", "rate": "0.1"}]}, "discount_overrides"),
    ({"deposit_bonuses": [{"min_deposit": "100.00", "bonus": "1.00"}, {"min_deposit": "100", "bonus": "2.00"}]},
     "deposit_bonuses[1].min_deposit"),
    ({"stored_value": False}, "deposit_bonuses"),
    ({"deposit_bonuses": [{"min_deposit": "0.00", "bonus": "1.00"}]}, "deposit_bonuses[0].min_deposit"),
])
def test_well_formed_but_unusable_card_types_answer_422(testapp, manage, unchanged, override, field):
    answer = testapp.post_json("/api/v1/card-types", {**GOOD_TYPE, **override}, headers=manage, status=422)
    assert set(answer.json["fields"]) == {field}


def test_a_change_names_its_bad_fields_and_keeps_the_card_type(testapp, manage, unchanged):
    for body, field in (({"code": "other"}, "code"), ({"discount_rate": 0.1}, "discount_rate"),
                        ({"initial_uses": -1}, "initial_uses"), ({"name": "N\x00"}, "name")):
        answer = testapp.put_json("/api/v1/card-types/standard", body, headers=manage, status=400)
        assert set(answer.json["fields"]) == {field}


def test_huge_numbers_are_refused_by_their_text_quickly(testapp, manage, unchanged):
    headers = {**manage, "Content-Type": "application/json"}
    for raw in ('"1e300000"', "1e300000", "1" + "0" * 5000, '"' + "9" * 5000 + '"', "-1e-300000"):
        body = json.dumps(GOOD_TYPE).replace('"credit_limit": "500.00"', f'"credit_limit": {raw}')
        started = time.monotonic()
        answer = testapp.post("/api/v1/card-types", body, headers=headers, status=400).json
        assert time.monotonic() - started < 2
        assert set(answer["fields"]) <= {"credit_limit", "body"}


def test_deep_nesting_lone_surrogates_and_non_objects(testapp, manage, unchanged):
    headers = {**manage, "Content-Type": "application/json"}
    deep = '{"discount_overrides": ' + "[" * 5000 + "]" * 5000 + "}"
    assert testapp.post("/api/v1/card-types", deep, headers=headers, status=400).json["fields"] == {
        "body": "must not nest deeper than 32 levels"}
    for lone in ("\\udc00", "\\ud800"):
        surrogate = json.dumps(GOOD_TYPE).replace('"Gym"', f'"G{lone}ym"')
        fields = testapp.post("/api/v1/card-types", surrogate, headers=headers, status=400).json["fields"]
        assert len(fields) == 1 and set(fields) <= {"name", "body"}
    for raw in ("[1]", '"x"', "null", '{"a": ', ""):
        assert testapp.post("/api/v1/card-types", raw, headers=headers, status=400).json["code"] == \
            "validation_failed"


@pytest.mark.parametrize("code", ["g" * 33, "a b", "%00", "%EF%BC%91", "nope"])
def test_card_type_codes_that_name_no_card_type_answer_404(testapp, manage, unchanged, code):
    testapp.get(f"/api/v1/card-types/{code}", headers=manage, status=404)
    testapp.put_json(f"/api/v1/card-types/{code}", {"name": "X"}, headers=manage, status=404)


# --- A card's life ----------------------------------------------------------------------------------

ACTIONS = {"status": {"status": "frozen", "reason": "guest asked"}, "replace": {"reason": "lost"},
           "pin": {"pin": "1234"}, "renew": {"days": 30}}

BAD_ACTIONS = [
    ("status", {"status": "replaced"}, "status"),
    ("status", {"status": "Frozen"}, "status"),
    ("status", {"status": None}, "status"),
    ("status", {"reason": "r" * 201}, "reason"),
    ("status", {"reason": "r\x00"}, "reason"),
    ("status", {"reason": 1}, "reason"),
    ("replace", {"card_no": 8800000000000013}, "card_no"),
    ("replace", {"card_no": "8" * 41}, "card_no"),
    ("replace", {"card_no": "88a0000000000013"}, "card_no"),
    ("replace", {"card_no": "1234567"}, "card_no"),
    ("replace", {"reason": ""}, "reason"),
    ("pin", {"pin": 1234}, "pin"),
    ("pin", {"pin": "\uff11\uff12\uff13\uff14"}, "pin"),
    ("pin", {"pin": " 1234"}, "pin"),
    ("pin", {"pin": "1234567"}, "pin"),
    ("pin", {"old_pin": "12"}, "old_pin"),
    ("pin", {"reset": "true"}, "reset"),
    ("pin", {"reset": 1}, "reset"),
    ("renew", {"days": 2**31}, "days"),
    ("renew", {"days": True}, "days"),
    ("renew", {"days": "thirty"}, "days"),
    ("renew", {"days": 1.5}, "days"),
    ("renew", {"days": None, "valid_to": "2030-01-01"}, "valid_to"),
    ("renew", {"valid_to": 20300101, "days": None}, "valid_to"),
    ("renew", {"tip": 1}, "tip"),
]


@pytest.mark.parametrize("action, override, field", BAD_ACTIONS)
def test_malformed_card_actions_answer_400_naming_the_field(testapp, manage, card_no, unchanged, action, override,
                                                            field):
    answer = testapp.post_json(f"/api/v1/cards/{card_no}/{action}", {**ACTIONS[action], **override}, headers=manage,
                               status=400)
    assert set(answer.json["fields"]) == {field}


def test_a_renewal_names_both_fields_unless_exactly_one_is_given(testapp, manage, card_no, unchanged):
    for body in ({}, {"days": 5, "valid_to": "2030-01-01T00:00:00Z"}, {"days": None, "valid_to": None}):
        answer = testapp.post_json(f"/api/v1/cards/{card_no}/renew", body, headers=manage, status=400)
        assert set(answer.json["fields"]) == {"days", "valid_to"}
    answer = testapp.post_json(f"/api/v1/cards/{card_no}/renew", {"valid_to": "2099-01-01T00:00:00Z"},
                               headers=manage, status=422)
    assert set(answer.json["fields"]) == {"valid_to"}


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_card_numbers_in_the_path_that_name_no_card_answer_404(testapp, manage, card_no, unchanged, action):
    for path in ("abc", "99999999999", "9" * 41, mistyped(card_no), "%EF%BC%98" * 16, "8800%000000000013"):
        answer = testapp.post_json(f"/api/v1/cards/{path}/{action}", ACTIONS[action], headers=manage, status=404)
        assert answer.json["code"] == "not_found"


def test_anonymous_sales_name_their_bad_fields(testapp, manage, unchanged):
    for body, field in (({"card_type": "standard", "pin": 1234}, "pin"), ({"card_type": 1, "pin": "1234"}, "card_type"),
                        ({"card_type": "s" * 33, "pin": "1234"}, "card_type"),
                        ({"card_type": "standard", "pin": "1234", "card_no": "\x00"}, "card_no")):
        answer = testapp.post_json("/api/v1/cards/anonymous", body, headers=manage, status=400)
        assert set(answer.json["fields"]) == {field}
    for body in ({"card_type": "nope", "pin": "1234"}, {"card_type": "standard", "pin": "1234"}):
        answer = testapp.post_json("/api/v1/cards/anonymous", body, headers=manage, status=(404, 422))
        assert set(answer.json["fields"]) == {"card_type"}


def test_a_mistyped_pool_card_is_well_formed_and_names_no_card(testapp, manage, card_no, unchanged):
    """The check digit is not in the document's pattern: a mistyped number answers 422, never 400."""
    answer = testapp.post_json(f"/api/v1/cards/{card_no}/replace", {"reason": "lost", "card_no": mistyped(card_no)},
                               headers=manage, status=422)
    assert answer.json["fields"] == {"card_no": "check digit does not match: the number is mistyped"}
    answer = testapp.post_json("/api/v1/cards/anonymous", {"card_type": "standard", "pin": "1234",
                                                           "card_no": "8800-0000-0000-0014"}, headers=manage,
                               status=422)
    assert set(answer.json["fields"]) == {"card_no"}


# --- Receipts ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("body, field", [
    ({"header_text": "x" * 501}, "header_text"),
    ({"header_text": "Hello\x00"}, "header_text"),
    ({"footer_text": ["a"]}, "footer_text"),
    ({"logo": "javascript:alert(1)"}, "logo"),
    ({"logo": "https://x.example/a b.png"}, "logo"),
    ({"logo": "https://x.example/\u6807\u5fd7.png"}, "logo"),
    ({"logo": "https://x.example/\"onerror=\"alert(1)"}, "logo"),
    ({"logo": "data:image/png;base64,AAA"}, "logo"),
    ({"logo": "data:image/svg+xml;base64,PHN2Zz4="}, "logo"),
    ({"logo": "https://x.example/" + "a" * 48_000}, "logo"),
    ({"paper": 80}, "paper"),
    ({"paper": "A4"}, "paper"),
    ({"fields": "member"}, "fields"),
    ({"fields": ["member"] * 21}, "fields"),
    ({"fields": [None]}, "fields[0]"),
    ({"template": "t" * 65}, "template"),
    ({"colour": "red"}, "colour"),
])
def test_malformed_receipt_layouts_answer_400_naming_the_field(testapp, manage, unchanged, body, field):
    answer = testapp.put_json("/api/v1/outlets/REST/receipt-layout", body, headers=manage, status=400)
    assert set(answer.json["fields"]) == {field}


@pytest.mark.parametrize("path", ["99999999999", "abc", "0", "-1", "1.5", "%EF%BC%91"])
def test_settlement_ids_that_name_no_settlement_answer_404(testapp, manage, unchanged, path):
    assert testapp.get(f"/api/v1/settlements/{path}/receipt", headers=manage, status=404).json["code"] == "not_found"
    testapp.get(f"/api/v1/settlements/{path}/receipt/prints", headers=manage, status=404)


@pytest.mark.parametrize("query, field", [("paper=a5", "paper"), ("paper=80mm&paper=a4", "paper"),
                                          ("paper=%00", "paper"), ("copies=2", "copies")])
def test_malformed_receipt_queries_answer_400(testapp, manage, unchanged, query, field):
    answer = testapp.get(f"/api/v1/settlements/1/receipt?{query}", headers=manage, status=400)
    assert set(answer.json["fields"]) == {field}


@pytest.mark.parametrize("code", ["c" * 33, "a b", "NOPE"])
def test_outlet_codes_that_name_no_outlet_answer_404(testapp, manage, unchanged, code):
    testapp.get(f"/api/v1/outlets/{code}/receipt-layout", headers=manage, status=404)
    testapp.put_json(f"/api/v1/outlets/{code}/receipt-layout", {}, headers=manage, status=404)


# --- The document and the server agree ----------------------------------------------------------------

def request_schema(document, path, method="post"):
    schema = document["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    return jsonschema_rs.Draft202012Validator({**schema, "components": document["components"]}, validate_formats=True)


def test_the_document_refuses_exactly_what_the_server_refuses_as_malformed(testapp):
    document = testapp.get("/api/v1/openapi.json").json
    card_type = request_schema(document, "/api/v1/card-types")
    for override, _ in BAD_CARD_TYPES:
        assert not card_type.is_valid({**GOOD_TYPE, **override}), override
    for override in ({}, {"valid_to": "2030-01-01T00:00:00Z"}, {"uses_outlets": ["NOWHERE"]},
                     {"discount_rate": "1", "points_multiplier": "100.000", "credit_warning_ratio": "0"},
                     {"discount_overrides": [{"outlet": "SPA", "category": None, "rate": "1.0000"}]},
                     {"credit_limit": None, "initial_uses": None, "uses_outlets": None}):
        assert card_type.is_valid({**GOOD_TYPE, **override}), override
    for action, override, _ in BAD_ACTIONS:
        schema = request_schema(document, f"/api/v1/cards/{{card_no}}/{action}")
        assert not schema.is_valid({**ACTIONS[action], **override}), (action, override)
    renewal = request_schema(document, "/api/v1/cards/{card_no}/renew")
    assert [renewal.is_valid(body) for body in ({"days": 1}, {"valid_to": "2030-01-01T00:00:00Z", "days": None},
                                                {}, {"days": 1, "valid_to": "2030-01-01T00:00:00Z"})] == \
        [True, True, False, False]
    layout = request_schema(document, "/api/v1/outlets/{code}/receipt-layout", "put")
    assert layout.is_valid({"logo": "data:image/png;base64,iVBORw0KGgo=", "template": "fancy", "fields": []})
    assert layout.is_valid({"logo": "https://x.example/%E6%A0%87.png?size=2&v=[1]", "header_text": "\u6b22\u8fce"})
    assert not layout.is_valid({"logo": "data:image/png;base64,not base64!"})
    parameters = document["paths"]["/api/v1/settlements/{id}/receipt"]["get"]["parameters"]
    assert {(p["name"], p["in"]) for p in parameters} == {("id", "path"), ("paper", "query")}
