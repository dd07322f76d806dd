"""The /api/v1 contract: enrol, approve, look up, earn, replay, conflict, reverse, ledger, and every
kind of bad input answered with a 4xx JSON body naming the field."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from lps_core.cards.luhn import with_check_digit
from lps_core.earning.models import Bill
from lps_core.ledger.check import find_drift
from lps_core.ledger.models import LedgerEntry
from lps_core.errors import ValidationFailed
from lps_core.validation import _MONEY_MESSAGE as MONEY_MESSAGE
from lps_core.validation import check_depth


@pytest.fixture
def auth(seed):
    return {"Authorization": f"Bearer {seed.api_key('REST')}"}


@pytest.fixture
def card_no(seed):
    return seed.member_card("Li Wei")


def post_bill(testapp, auth, card_no, bill_no="B1", amount="100.00", status=201, **extra):
    body = {"card_no": card_no, "bill_no": bill_no, "amount": amount, **extra}
    return testapp.post_json("/api/v1/transactions", body, headers=auth, status=status).json


def test_enrol_approve_and_look_up(testapp, auth):
    member = testapp.post_json("/api/v1/members", {
        "name": "Wang Fang", "phone": "+86 139 0000 0009", "email": "Wang@Example.com",
        "birthday": "1988-02-29", "gender": "female", "channel": "web",
    }, headers=auth, status=201).json
    assert member["status"] == "pending"
    approved = testapp.post_json(f"/api/v1/members/{member['id']}/approve", {}, headers=auth).json
    card = testapp.get(f"/api/v1/cards/{approved['card_no']}", headers=auth).json
    assert card == {"card_no": approved["card_no"], "status": "active", "card_type": "standard",
                    "member": {"id": member["id"], "name": "Wang Fang"}, "tier": "classic",
                    "points_balance": 0, "stored_value_balance": "0.00"}


def test_approving_twice_is_a_conflict(testapp, auth):
    member = testapp.post_json("/api/v1/members", {"name": "A", "phone": "+8613800000001", "channel": "desk"},
                               headers=auth).json
    testapp.post_json(f"/api/v1/members/{member['id']}/approve", {}, headers=auth)
    error = testapp.post_json(f"/api/v1/members/{member['id']}/approve", {}, headers=auth, status=409).json
    assert error["fields"] == {"status": "is active"}


def test_approving_an_unknown_member_is_404(testapp, auth):
    assert testapp.post("/api/v1/members/999/approve", headers=auth, status=404).json["fields"] == {
        "id": "no such member"}


@pytest.mark.parametrize("body, fields", [
    ({"phone": "+8613800000001", "channel": "web"}, {"name": "is required"}),
    ({"name": "A", "phone": "+8613800000001", "channel": "fax"}, {"channel": "must be one of: desk, web"}),
    ({"name": "A", "email": "not-an-address", "channel": "web"},
     {"email": "must be an e-mail address such as li.wei@example.com"}),
    ({"name": "A\u0000", "email": "a@b.cn", "channel": "web"}, {"name": "must not contain NUL characters"}),
    ({"name": "A" * 201, "email": "a@b.cn", "channel": "web"}, {"name": "must be at most 200 characters"}),
    ({"name": "A", "phone": "+8613800000001", "channel": "web", "birthday": "1990-13-01"},
     {"birthday": "must be a real calendar date such as 1990-05-17"}),
    ({"name": "A", "phone": "+8613800000001", "channel": "web", "vip": True}, {"vip": "is not a known field"}),
])
def test_enrolment_validation_names_the_field(testapp, auth, body, fields):
    assert testapp.post_json("/api/v1/members", body, headers=auth, status=400).json["fields"] == fields


def test_an_enrolment_without_phone_or_email_is_well_formed_but_unusable(testapp, auth):
    answer = testapp.post_json("/api/v1/members", {"name": "A", "channel": "web"}, headers=auth, status=422)
    assert answer.json["fields"] == {"phone": "give a phone number or an e-mail address"}


def test_a_birthday_today_anywhere_on_earth_is_taken_and_tomorrow_there_is_not(testapp, auth):
    # The server's own date would refuse the programme's today every evening in Shanghai.
    latest = (datetime.now(timezone.utc) + timedelta(hours=14)).date()
    body = {"name": "A", "phone": "+8613800000001", "channel": "web", "birthday": latest.isoformat()}
    assert testapp.post_json("/api/v1/members", body, headers=auth).json["status"] == "pending"
    body = {"name": "B", "phone": "+8613800000002", "channel": "web",
            "birthday": (latest + timedelta(days=1)).isoformat()}
    assert testapp.post_json("/api/v1/members", body, headers=auth, status=422).json["fields"] == {
        "birthday": "must lie between 1900-01-01 and today"}


def test_earn_with_items_excludes_tax_and_applies_the_tier(testapp, seed, auth):
    gold_card = seed.member_card("Gold Guest", tier="gold")
    earned = post_bill(testapp, auth, gold_card, amount="380.00", items=[
        {"sku": "DUCK", "category": "food", "qty": 1, "amount": "330.00"},
        {"sku": "VAT", "category": "tax", "qty": "1", "amount": "50.00"},
    ])
    assert earned["points"] == 495  # 330 eligible x 1 point, x1.5 for gold
    assert [step["points"] for step in earned["breakdown"]] == [330, 165]
    assert earned["points_balance"] == 495


def test_same_bill_same_body_replays_the_first_result(testapp, auth, card_no):
    first = post_bill(testapp, auth, card_no, amount="88.80")
    again = post_bill(testapp, auth, card_no, amount="88.80", status=200)
    assert again == {**first, "replayed": True}
    assert testapp.get(f"/api/v1/cards/{card_no}", headers=auth).json["points_balance"] == 88


def test_same_bill_other_body_is_409_and_posts_nothing(testapp, seed, auth, card_no):
    post_bill(testapp, auth, card_no, amount="88.80")
    error = post_bill(testapp, auth, card_no, amount="99.00", status=409)
    assert error["fields"] == {"bill_no": "already posted with other content"}
    assert seed.db.scalar(select(func.count()).select_from(LedgerEntry)) == 1


def test_the_same_bill_no_at_another_outlet_is_another_bill(testapp, seed, auth, card_no):
    spa = {"Authorization": f"Bearer {seed.api_key('SPA')}"}
    post_bill(testapp, auth, card_no, amount="10.00")
    assert post_bill(testapp, spa, card_no, amount="10.00")["points"] == 20


def test_partial_reversals_then_over_reversal_refused(testapp, auth, card_no):
    earned = post_bill(testapp, auth, card_no, amount="100.00")
    url = f"/api/v1/transactions/{earned['id']}/reversal"
    first = testapp.post_json(url, {"amount": "33.33", "refund_no": "RF1"}, headers=auth, status=201).json
    assert (first["points"], first["points_balance"]) == (33, 67)
    replay = testapp.post_json(url, {"amount": "33.33", "refund_no": "RF1"}, headers=auth, status=200).json
    assert replay == {**first, "replayed": True}
    over = testapp.post_json(url, {"amount": "66.68", "refund_no": "RF2"}, headers=auth, status=409).json
    assert over["fields"] == {"amount": "at most 66.67 can be refunded"}
    rest = testapp.post_json(url, {}, headers=auth, status=201).json
    assert (rest["amount"], rest["points"], rest["points_balance"]) == ("66.67", 67, 0)
    testapp.post_json(url, {"amount": "0.01", "refund_no": "RF3"}, headers=auth, status=409)
    detail = testapp.get(f"/api/v1/transactions/{earned['id']}", headers=auth).json
    assert [r["points"] for r in detail["refunds"]] == [33, 67]


def test_a_refund_no_reused_with_another_amount_is_409(testapp, auth, card_no):
    earned = post_bill(testapp, auth, card_no, amount="100.00")
    url = f"/api/v1/transactions/{earned['id']}/reversal"
    testapp.post_json(url, {"amount": "10.00", "refund_no": "RF1"}, headers=auth)
    error = testapp.post_json(url, {"amount": "20.00", "refund_no": "RF1"}, headers=auth, status=409).json
    assert error["fields"] == {"refund_no": "already used with another amount"}


def test_reversal_of_spent_points_is_refused_with_the_balance(testapp, seed, auth, card_no):
    from lps_core.ledger import services as ledger

    earned = post_bill(testapp, auth, card_no, amount="100.00")
    ledger.debit(seed.db, seed.points_account(card_no), 90, business_key="redeem-1", fingerprint="x")
    seed.db.commit()
    error = testapp.post_json(f"/api/v1/transactions/{earned['id']}/reversal", {}, headers=auth, status=409).json
    assert error["code"] == "insufficient_balance"


def test_ledger_is_paginated_newest_first(testapp, auth, card_no):
    for n in range(5):
        post_bill(testapp, auth, card_no, bill_no=f"B{n}", amount="10.00")
    page = testapp.get(f"/api/v1/cards/{card_no}/ledger?per_page=2&page=2", headers=auth).json
    assert (page["total"], page["page"], [e["bill_no"] for e in page["entries"]]) == (5, 2, ["B2", "B1"])
    assert page["entries"][0]["breakdown"][0]["rule"] == "base_rate"
    stored = testapp.get(f"/api/v1/cards/{card_no}/ledger?account=stored_value", headers=auth).json
    assert stored["total"] == 0
    testapp.get(f"/api/v1/cards/{card_no}/ledger?per_page=201", headers=auth, status=400)


@pytest.mark.parametrize("override, fields", [
    ({"amount": "-5"}, {"amount": "must be greater than 0"}),
    ({"amount": "abc"}, {"amount": MONEY_MESSAGE}),
    ({"amount": "1.005"}, {"amount": "must have at most 2 decimal places"}),
    ({"amount": "NaN"}, {"amount": MONEY_MESSAGE}),
    ({"amount": True}, {"amount": MONEY_MESSAGE}),
    ({"amount": 12.5}, {"amount": "must be a decimal string such as \"12.50\", not a JSON number"}),
    ({"amount": "1e300000"}, {"amount": "must not use an exponent"}),
    ({"amount": "1_000"}, {"amount": "must not contain separators such as '_' or ','"}),
    ({"amount": "\uff11\uff10"}, {"amount": "must use the digits 0 to 9"}),
    ({"amount": "+10"}, {"amount": "must not carry a sign"}),
    ({"amount": "10."}, {"amount": "must have 1 or 2 digits after the point"}),
    ({"amount": ".5"}, {"amount": "must have a digit before the point"}),
    ({"amount": " 10"}, {"amount": "must not have spaces around it"}),
    ({"amount": "1" * 13}, {"amount": "must have at most 12 digits before the point"}),
    ({"bill_no": ""}, {"bill_no": "must not be empty"}),
    ({"bill_no": "B\u0000"}, {"bill_no": "must not contain NUL characters"}),
    ({"bill_no": "B" * 65}, {"bill_no": "must be at most 64 characters"}),
    ({"card_no": 8800000000000013}, {"card_no": "must be a string"}),
    ({"occurred_at": "yesterday"}, {"occurred_at": "must be an ISO 8601 date-time such as 2026-05-01T19:30:00+08:00"}),
    ({"occurred_at": "2026-01-01T10:00:00"}, {"occurred_at": "must include a time-zone offset, such as +08:00 or Z"}),
    ({"items": [{"amount": "1.00"}]}, {"items[0].sku": "is required"}),
    ({"items": [{"sku": "A", "amount": "1.00", "qty": 1.5}]},
     {"items[0].qty": 'must be a whole number or a decimal string such as "1.5" (at most 3 decimals)'}),
    ({"tip": "1"}, {"tip": "is not a known field"}),
])
def test_bad_transaction_fields_are_named(testapp, auth, card_no, override, fields):
    body = {"card_no": card_no, "bill_no": "B1", "amount": "100.00", **override}
    assert testapp.post_json("/api/v1/transactions", body, headers=auth, status=400).json["fields"] == fields


@pytest.mark.parametrize(("override", "fields"), [
    ({"occurred_at": "2099-01-01T10:00:00Z"}, "occurred_at"),
    ({"items": [{"sku": "A", "amount": "500.00"}]}, "items"),
    ({"items": [{"sku": "A", "amount": "1.00", "qty": "200000"}]}, "items[0].qty"),
    ({"amount": "0.00"}, "amount"),
])
def test_well_formed_but_unusable_transaction_fields_answer_422(testapp, auth, card_no, override, fields):
    body = {"card_no": card_no, "bill_no": "B1", "amount": "100.00", **override}
    assert set(testapp.post_json("/api/v1/transactions", body, headers=auth, status=422).json["fields"]) == {fields}


def test_json_numbers_are_refused_as_money_before_anything_is_converted(testapp, seed, auth, card_no):
    for raw, field in (("12.30", "amount"), ("1e300000", "amount"), ("1" + "0" * 5000, "body")):
        answer = testapp.post("/api/v1/transactions", f'{{"card_no": "{card_no}", "bill_no": "N1", "amount": {raw}}}',
                              headers={**auth, "Content-Type": "application/json"}, status=400)
        assert answer.content_type == "application/problem+json"
        assert set(answer.json["fields"]) == {field}
    assert seed.db.scalar(select(func.count()).select_from(LedgerEntry)) == 0


def test_deep_nesting_and_bad_json_answer_400_not_500(testapp, auth):
    headers = {**auth, "Content-Type": "application/json"}
    deep = '{"items": ' + "[" * 5000 + "]" * 5000 + "}"
    assert testapp.post("/api/v1/transactions", deep, headers=headers, status=400).json["fields"] == {
        "body": "must not nest deeper than 32 levels"}
    assert testapp.post("/api/v1/transactions", '{"a": ', headers=headers, status=400).json["code"] == \
        "validation_failed"
    assert testapp.post("/api/v1/transactions", "[1]", headers=headers, status=400).json["fields"] == {
        "body": "must be a JSON object"}


def test_the_depth_limit_counts_nesting_not_brackets():
    check_depth(b"[" * 32 + b"]" * 32)
    with pytest.raises(ValidationFailed):
        check_depth(b"[" * 33 + b"]" * 33)
    with pytest.raises(ValidationFailed):
        check_depth(b'{"a": ' * 33 + b"1" + b"}" * 33)
    check_depth(b'{"items": [' + b", ".join([b'{"sku": "A", "tags": [1]}'] * 40) + b"]}")  # 82 opened, 4 deep
    check_depth(b'{"note": "' + b"[{" * 40 + b'", "x": [[1]]}')  # brackets in a string do not nest


@pytest.mark.parametrize("path", ["/api/v1/transactions/99999999999", "/api/v1/transactions/abc",
                                  "/api/v1/transactions/0", "/api/v1/transactions/-1"])
def test_path_ids_out_of_the_column_range_answer_404(testapp, auth, path):
    assert testapp.get(path, headers=auth, status=404).json["code"] == "not_found"


@pytest.mark.parametrize("query", ["page=99999999999", "page=0", "per_page=201", "page=1.5", "account=cash"])
def test_ledger_query_out_of_range_answers_400(testapp, auth, card_no, query):
    answer = testapp.get(f"/api/v1/cards/{card_no}/ledger?{query}", headers=auth, status=400)
    assert set(answer.json["fields"]) == {query.split("=")[0]}


def test_the_bearer_scheme_is_case_insensitive(testapp, seed, card_no):
    key = seed.api_key()
    for scheme in ("bearer", "BEARER", "Bearer"):
        testapp.get(f"/api/v1/cards/{card_no}", headers={"Authorization": f"{scheme} {key}"}, status=200)


def test_mistyped_unknown_and_inactive_cards(testapp, seed, auth, card_no):
    from sqlalchemy import update

    from lps_core.cards.models import Card

    typo = card_no[:-1] + str((int(card_no[-1]) + 1) % 10)
    assert post_bill(testapp, auth, typo, status=422)["fields"] == {
        "card_no": "check digit does not match: the number is mistyped"}
    unknown = with_check_digit("880099999999999")
    assert post_bill(testapp, auth, unknown, status=422)["fields"] == {"card_no": "no such card"}
    assert testapp.get(f"/api/v1/cards/{unknown}", headers=auth, status=404).json["fields"] == {
        "card_no": "no such card"}
    seed.db.execute(update(Card).where(Card.card_no == card_no).values(status="frozen"))
    seed.db.commit()
    assert post_bill(testapp, auth, card_no, status=422)["fields"] == {"card_no": "card is frozen"}


def test_malformed_oversize_and_non_object_bodies(testapp, auth):
    headers = {**auth, "Content-Type": "application/json"}
    assert testapp.post("/api/v1/transactions", "{nope", headers=headers, status=400).json["fields"]["body"] \
        .startswith("is not valid JSON")
    assert testapp.post("/api/v1/transactions", "[1, 2]", headers=headers, status=400).json["fields"] == {
        "body": "must be a JSON object"}
    big = '{"card_no": "' + "1" * 70000 + '"}'
    assert testapp.post("/api/v1/transactions", big, headers=headers, status=413).json["code"] == "body_too_large"


def test_authentication_and_outlet_authorization(testapp, seed, auth, card_no):
    testapp.get(f"/api/v1/cards/{card_no}", status=401)
    assert testapp.get(f"/api/v1/cards/{card_no}", headers={"Authorization": "Bearer lps_0000_nope"},
                       status=401).headers["WWW-Authenticate"].startswith("Bearer")
    earned = post_bill(testapp, auth, card_no)
    spa = {"Authorization": f"Bearer {seed.api_key('SPA')}"}
    # Another outlet's bill answers exactly as a bill that does not exist.
    other = testapp.post_json(f"/api/v1/transactions/{earned['id']}/reversal", {}, headers=spa, status=404).json
    unknown = testapp.post_json("/api/v1/transactions/999999/reversal", {}, headers=spa, status=404).json
    assert {**other, "detail": ""} == {**unknown, "detail": ""}
    testapp.get(f"/api/v1/transactions/{earned['id']}", headers=spa, status=404)
    website = {"Authorization": f"Bearer {seed.api_key('REST', scopes=('members',))}"}
    testapp.post_json("/api/v1/members/1/approve", {}, headers=website, status=403)
    post_bill(testapp, website, card_no, bill_no="B9", status=403)


def test_a_revoked_key_is_refused(testapp, seed, card_no):
    from lps_core.apikeys.services import revoke_api_key

    key = seed.api_key()
    revoke_api_key(seed.db, key.split("_")[1])
    seed.db.commit()
    testapp.get(f"/api/v1/cards/{card_no}", headers={"Authorization": f"Bearer {key}"}, status=401)


def test_unknown_routes_and_methods_answer_json(testapp, auth):
    assert testapp.get("/api/v1/nothing", status=404).json["code"] == "not_found"
    wrong_method = testapp.get("/api/v1/transactions", headers=auth, status=405)
    assert wrong_method.json["code"] == "method_not_allowed"
    assert wrong_method.headers["Allow"] == "POST"
    assert wrong_method.content_type == "application/problem+json"


def test_nothing_drifts_after_a_day_of_business(testapp, seed, auth, card_no):
    for n in range(6):
        earned = post_bill(testapp, auth, card_no, bill_no=f"D{n}", amount=f"{n + 1}7.50")
        if n % 2:
            testapp.post_json(f"/api/v1/transactions/{earned['id']}/reversal", {"amount": "5.00"}, headers=auth)
    assert seed.db.scalar(select(func.count()).select_from(Bill)) == 6
    assert find_drift(seed.db) == []


def test_openapi_documents_every_api_route(testapp):
    document = testapp.get("/api/v1/openapi.json").json
    routes = testapp.app.registry.introspector.get_category("routes")
    api_patterns = {route["introspectable"]["pattern"] for route in routes
                    if route["introspectable"]["pattern"].startswith("/api/")}
    assert api_patterns == set(document["paths"])
    assert document["openapi"].startswith("3.")


def test_a_retry_after_the_card_was_frozen_still_replays(testapp, seed, auth, card_no):
    from sqlalchemy import update

    from lps_core.cards.models import Card

    first = post_bill(testapp, auth, card_no, bill_no="F1")
    seed.db.execute(update(Card).where(Card.card_no == card_no).values(status="frozen"))
    seed.db.commit()
    assert post_bill(testapp, auth, card_no, bill_no="F1", status=200)["id"] == first["id"]


def test_a_key_approves_only_members_enrolled_at_its_outlet_or_at_none(testapp, seed):
    rest = {"Authorization": f"Bearer {seed.api_key('REST')}"}
    spa = {"Authorization": f"Bearer {seed.api_key('SPA')}"}
    member = testapp.post_json("/api/v1/members", {"name": "A", "email": "a@example.com", "channel": "desk"},
                               headers=rest, status=201).json
    refused = testapp.post_json(f"/api/v1/members/{member['id']}/approve", {}, headers=spa, status=403).json
    assert set(refused["fields"]) == {"id"}
    testapp.post_json(f"/api/v1/members/{member['id']}/approve", {}, headers=rest, status=200)


def test_every_api_view_has_its_declared_operation_and_every_operation_its_view(testapp):
    from lps_core.http.operations import operations_of

    registry = testapp.app.registry
    views = set()
    for item in registry.introspector.get_category("views"):
        view = item["introspectable"]
        route = view["route_name"] or ""
        if route.startswith("api."):
            methods = view["request_methods"]
            methods = (methods,) if isinstance(methods, str) else methods or ("GET",)
            views.update((route, method.lower()) for method in methods)
    declared = {(operation.route, operation.method.lower()) for operation in operations_of(registry)}
    assert views == declared
    document = testapp.get("/api/v1/openapi.json").json
    assert document["openapi"] == "3.1.0"
    assert sum(len(methods) for methods in document["paths"].values()) == len(declared)
