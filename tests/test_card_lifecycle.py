"""Card types configured over the API, issuance with validity and uses, anonymous bearer cards,
status changes, lost-card replacement, PINs with their lock-out, and renewal."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from lps_core.cards.models import Card, CardType
from lps_core.cards.pins import hash_pin
from lps_core.cards.services import generate_pool
from lps_core.ledger.models import STORED_VALUE, STORED_VALUE_BONUS, USES, Account, LedgerEntry
from lps_core.ledger.services import credit, fingerprint_of, get_or_create_account
from lps_core.testing import post_all_at_once
from lps_core.timeutil import as_utc

UTC = timezone.utc
SPA_CARD = {
    "code": "spa10", "name": "Spa ten sessions", "prefix": "8810", "discount_rate": "0.1",
    "discount_overrides": [{"outlet": "SPA", "category": "treatment", "rate": "0.15"}, {"category": "retail", "rate": "0.05"}],
    "stored_value": True, "deposit_bonuses": [{"min_deposit": "1000", "bonus": "100.00"}],
    "initial_uses": 10, "uses_outlets": ["SPA"], "credit_limit": "500.00", "credit_warning_ratio": "0.75",
    "validity_days": 365, "pin_required": True,
}


@pytest.fixture
def manage(seed):
    return {"Authorization": f"Bearer {seed.api_key('REST', scopes=['cards.manage', 'cards.read', 'transactions'])}"}


def card(db, card_no) -> Card:
    db.rollback()
    return db.scalar(select(Card).where(Card.card_no == card_no))


def balances(db, card_no) -> dict:
    db.rollback()
    rows = db.execute(select(Account.kind, Account.balance).join(Card, Card.id == Account.card_id)
                      .where(Card.card_no == card_no))
    return dict(rows.all())


# Card types

CARD_TYPE_MESSAGES = ("prefix", "discount_rate", "points_multiplier", "discount_overrides[0].rate", "credit_warning_ratio")

def test_create_read_list_and_change_a_card_type(testapp, manage):
    created = testapp.post_json("/api/v1/card-types", SPA_CARD, headers=manage, status=201).json
    assert created == {
        **SPA_CARD, "points_multiplier": "1", "discount_rate": "0.1",
        "discount_overrides": [{"outlet": "SPA", "category": "treatment", "rate": "0.15"},
                               {"category": "retail", "rate": "0.05"}],
        "deposit_bonuses": [{"min_deposit": "1000.00", "bonus": "100.00"}],
        "valid_from": None, "valid_to": None, "anonymous": False, "active": True, "partner": None,
        "serial_from": None, "serial_to": None, "membership_fee": None, "membership_months": None,
        "membership_reminder_days": None,
    }
    assert testapp.get("/api/v1/card-types/spa10", headers=manage).json == created
    changed = testapp.put_json("/api/v1/card-types/spa10", {"discount_rate": "0.125", "valid_to": "2027-01-01T00:00:00+08:00"},
                               headers=manage).json
    assert changed["discount_rate"] == "0.125" and changed["valid_to"] == "2026-12-31T16:00:00Z"
    assert changed["initial_uses"] == 10
    codes = [row["code"] for row in testapp.get("/api/v1/card-types", headers=manage).json["card_types"]]
    assert codes == ["spa10", "standard"]


def test_every_bad_card_type_field_is_named_at_once(testapp, manage):
    body = {"code": "bad code", "prefix": "88a", "discount_rate": "1.5", "points_multiplier": "0.12345",
            "discount_overrides": [{"outlet": "GYM", "rate": 0.1}], "deposit_bonuses": [{"min_deposit": "-1", "bonus": "1"}],
            "initial_uses": 0, "uses_outlets": ["NOPE"], "credit_limit": "12.345", "credit_warning_ratio": "2",
            "validity_days": 1.5, "valid_from": "2026-01-01", "anonymous": "yes", "colour": "red"}
    fields = testapp.post_json("/api/v1/card-types", body, headers=manage, status=400).json["fields"]
    assert {name: message for name, message in fields.items() if name in CARD_TYPE_MESSAGES} == {
        "prefix": "must be 1 to 8 digits", "discount_rate": "must be from 0 to 1",
        "points_multiplier": "must have at most 3 decimal places",
        "discount_overrides[0].rate": 'must be a decimal string such as "0.15" (a string, not a JSON number)',
        "credit_warning_ratio": "must be from 0 to 1"}
    assert set(fields) == {*CARD_TYPE_MESSAGES, "code", "name", "deposit_bonuses[0].min_deposit", "initial_uses",
                           "credit_limit", "validity_days", "valid_from", "anonymous", "colour"}


def test_unknown_outlets_in_a_card_type_are_422(testapp, manage):
    body = {"code": "gym", "name": "Gym", "prefix": "66", "discount_overrides": [{"outlet": "GYM", "rate": "0.1"}],
            "initial_uses": 5, "uses_outlets": ["NOPE", "SPA", "ZZZ"]}
    error = testapp.post_json("/api/v1/card-types", body, headers=manage, status=422).json
    assert error["fields"] == {"discount_overrides": "outlet GYM does not exist",
                               "uses_outlets": "outlet NOPE, ZZZ do not exist"}
    testapp.get("/api/v1/card-types/gym", headers=manage, status=404)


def test_card_type_rules_that_span_fields(testapp, manage):
    body = {"code": "x", "name": "X", "prefix": "77", "valid_from": "2026-06-01T00:00:00Z",
            "valid_to": "2026-05-01T00:00:00Z", "deposit_bonuses": [{"min_deposit": "100", "bonus": "5"}],
            "discount_overrides": [{"rate": "0.1"}]}
    error = testapp.post_json("/api/v1/card-types", body, headers=manage, status=400).json
    assert error["fields"] == {"discount_overrides[0]": "needs an outlet, a category or both"}
    body["discount_overrides"] = [{"category": "spa", "rate": "0.1"}, {"category": "spa", "rate": "0.2"}]
    error = testapp.post_json("/api/v1/card-types", body, headers=manage, status=422).json
    assert error["fields"] == {"discount_overrides[1]": "repeats the override for category spa"}
    body["discount_overrides"] = []
    error = testapp.post_json("/api/v1/card-types", body, headers=manage, status=422).json
    assert error["fields"] == {"valid_to": "must be after valid_from", "deposit_bonuses": "need stored_value to be true"}
    assert testapp.put_json("/api/v1/card-types/standard", {"uses_outlets": ["SPA"], "initial_uses": None},
                            headers=manage, status=422).json["fields"] == {"uses_outlets": "need initial_uses"}
    assert testapp.post_json("/api/v1/card-types", {"code": "standard", "name": "S", "prefix": "1"},
                             headers=manage, status=409).json["fields"] == {"code": "is taken"}
    assert testapp.put_json("/api/v1/card-types/standard", {"code": "other"}, headers=manage,
                            status=400).json["fields"] == {"code": "is not a known field"}
    testapp.get("/api/v1/card-types/none", headers=manage, status=404)


def test_card_types_need_the_manage_scope(testapp, seed):
    till = {"Authorization": f"Bearer {seed.api_key('REST', scopes=['cards.read'])}"}
    assert testapp.get("/api/v1/card-types", headers=till, status=403).json["fields"] == {
        "Authorization": "lacks scope cards.manage"}


# Issuance

def test_issuing_sets_validity_and_opens_the_uses(db, seed):
    start = datetime.now(UTC)
    db.execute(update(CardType).where(CardType.code == "standard").values(
        validity_days=30, initial_uses=10, valid_to=start + timedelta(days=20)))
    db.commit()
    card_no = seed.member_card()
    issued = card(db, card_no)
    assert start <= issued.valid_from.replace(tzinfo=UTC) <= datetime.now(UTC)
    assert as_utc(issued.valid_to) == start + timedelta(days=20)  # the type's end comes before 30 days
    assert balances(db, card_no) == {STORED_VALUE: 0, USES: 10}
    entry = db.scalar(select(LedgerEntry).join(Account).join(Card).where(Card.card_no == card_no))
    assert (entry.kind, entry.amount, entry.business_key) == ("issue", 10, f"issue-uses:{issued.id}")


def test_an_inactive_card_type_is_not_issued(db, seed):
    from lps_core.errors import Conflict, Unprocessable
    from lps_core.members.services import Enrolment, approve_member, enrol_member

    db.execute(update(CardType).where(CardType.code == "standard").values(active=False))
    db.commit()
    member_id = enrol_member(db, Enrolment(name="Late", channel="desk", email="late@example.com"))
    db.commit()
    with pytest.raises(Unprocessable, match="no longer issued"):
        approve_member(db, member_id, card_type_code="standard")
    db.rollback()
    with pytest.raises(Conflict, match="no member card type"):  # nor chosen when no type is named
        approve_member(db, member_id)


def test_a_type_without_validity_gives_open_cards(db, seed):
    issued = card(db, seed.member_card())
    assert (issued.valid_from, issued.valid_to, issued.status) == (None, None, "active")


# Anonymous cards

def test_selling_an_anonymous_card(testapp, manage, db, seed):
    db.execute(update(CardType).where(CardType.code == "standard").values(anonymous=True))
    db.commit()
    [pooled, other] = generate_pool(db, 2)
    db.commit()
    sold = testapp.post_json("/api/v1/cards/anonymous", {"card_type": "standard", "pin": "2468", "card_no": other},
                             headers=manage, status=201).json
    assert (sold["card_no"], sold["status"], sold["member_id"], sold["pin_set"]) == (other, "active", None, True)
    assert balances(db, other) == {STORED_VALUE: 0}
    assert testapp.post_json("/api/v1/cards/anonymous", {"card_type": "standard", "pin": "1357"},
                             headers=manage, status=201).json["card_no"] == pooled
    again = testapp.post_json("/api/v1/cards/anonymous", {"card_type": "standard", "pin": "1357", "card_no": other},
                              headers=manage, status=409).json
    assert again["fields"] == {"card_no": "card is active"}


def test_anonymous_sale_checks_its_fields_and_the_type(testapp, manage):
    error = testapp.post_json("/api/v1/cards/anonymous", {"pin": "12", "extra": 1}, headers=manage, status=400).json
    assert error["fields"] == {"card_type": "is required", "pin": "must be 4 to 6 digits", "extra": "is not a known field"}
    error = testapp.post_json("/api/v1/cards/anonymous", {"card_type": "standard", "pin": "1234"},
                              headers=manage, status=422).json
    assert error["fields"] == {"card_type": "is not anonymous"}


# Status

@pytest.mark.parametrize("path, final", [
    (["frozen", "active", "frozen", "lost", "cancelled"], "cancelled"),
    (["lost"], "lost"),
    (["cancelled"], "cancelled"),
])
def test_allowed_status_changes(testapp, manage, seed, db, path, final):
    card_no = seed.member_card()
    for status in path:
        answer = testapp.post_json(f"/api/v1/cards/{card_no}/status", {"status": status, "reason": f"to {status}"},
                                   headers=manage).json
        assert (answer["status"], answer["status_reason"]) == (status, f"to {status}")
    assert card(db, card_no).status == final


@pytest.mark.parametrize("path, refused", [
    (["lost"], "active"), (["lost"], "frozen"), (["cancelled"], "active"), (["cancelled"], "lost"),
])
def test_forbidden_status_changes_are_409(testapp, manage, seed, path, refused):
    card_no = seed.member_card()
    for status in path:
        testapp.post_json(f"/api/v1/cards/{card_no}/status", {"status": status, "reason": "x"}, headers=manage)
    error = testapp.post_json(f"/api/v1/cards/{card_no}/status", {"status": refused, "reason": "x"},
                              headers=manage, status=409).json
    assert error["detail"] == f"card {card_no} is {path[-1]} and cannot become {refused}"


def test_status_body_is_checked(testapp, manage, seed):
    card_no = seed.member_card()
    error = testapp.post_json(f"/api/v1/cards/{card_no}/status", {"status": "replaced"}, headers=manage, status=400).json
    assert error["fields"] == {"status": "must be one of: active, frozen, lost, cancelled", "reason": "is required"}


# Replacement

def fund(db, card_no, kind, amount):
    card_id = db.scalar(select(Card.id).where(Card.card_no == card_no))
    account = get_or_create_account(db, kind, card_id=card_id)
    credit(db, account, amount, kind="deposit", business_key=f"test:{card_no}:{kind}",
           fingerprint=fingerprint_of({"amount": amount}))
    db.commit()


def test_replacing_a_lost_card_moves_balances_and_refuses_the_old_number(testapp, manage, seed, db):
    old = seed.member_card()
    fund(db, old, STORED_VALUE, 50_000)
    fund(db, old, STORED_VALUE_BONUS, 5_000)
    fund(db, old, USES, 7)
    testapp.post_json("/api/v1/transactions", {"card_no": old, "bill_no": "B1", "amount": "100.00"}, headers=manage,
                      status=201)
    db.execute(update(Card).where(Card.card_no == old).values(pin_hash="hash", valid_to=datetime(2030, 1, 1, tzinfo=UTC)))
    db.commit()
    testapp.post_json(f"/api/v1/cards/{old}/status", {"status": "lost", "reason": "guest lost it"}, headers=manage)
    [pooled] = generate_pool(db, 1)
    db.commit()

    new = testapp.post_json(f"/api/v1/cards/{old}/replace", {"reason": "lost", "card_no": pooled}, headers=manage,
                            status=201).json
    assert (new["card_no"], new["replaces"], new["status"], new["pin_set"]) == (pooled, old, "active", True)
    assert new["valid_to"] == "2030-01-01T00:00:00Z"
    assert balances(db, pooled) == {STORED_VALUE: 50_000, STORED_VALUE_BONUS: 5_000, USES: 7}
    assert balances(db, old) == {}
    assert card(db, old).status == "replaced" and card(db, old).replaced_by_id == card(db, pooled).id
    looked_up = testapp.get(f"/api/v1/cards/{pooled}", headers=manage).json
    assert (looked_up["points_balance"], looked_up["stored_value_balance"]) == (100, "500.00")
    history = testapp.get(f"/api/v1/cards/{pooled}/ledger?account=stored_value", headers=manage).json
    assert [(entry["kind"], entry["amount"]) for entry in history["entries"]] == [("deposit", "500.00")]

    refused = testapp.post_json("/api/v1/transactions", {"card_no": old, "bill_no": "B2", "amount": "10.00"},
                                headers=manage, status=422).json
    assert refused["fields"] == {"card_no": "card is replaced"}
    again = testapp.post_json(f"/api/v1/cards/{old}/replace", {"reason": "lost"}, headers=manage, status=409).json
    assert again["detail"].endswith(f"it was replaced by {pooled}")


def test_replacement_without_a_pool_card_takes_a_new_number(testapp, manage, seed, db):
    old = seed.member_card()
    new = testapp.post_json(f"/api/v1/cards/{old}/replace", {"reason": "worn out"}, headers=manage, status=201).json
    assert new["card_no"] != old and new["member_id"] == card(db, old).member_id
    assert balances(db, new["card_no"]) == {STORED_VALUE: 0}


def test_cancelled_cards_are_not_replaced(testapp, manage, seed):
    old = seed.member_card()
    testapp.post_json(f"/api/v1/cards/{old}/status", {"status": "cancelled", "reason": "closed"}, headers=manage)
    error = testapp.post_json(f"/api/v1/cards/{old}/replace", {"reason": "x"}, headers=manage, status=409).json
    assert error["fields"] == {"card_no": "card is cancelled"}


# PINs

def test_pin_set_change_lockout_and_staff_reset(testapp, manage, seed, db):
    card_no = seed.member_card()
    url = f"/api/v1/cards/{card_no}/pin"
    assert testapp.post_json(url, {"pin": "1234"}, headers=manage).json["pin_set"] is True
    assert testapp.post_json(url, {"pin": "5678"}, headers=manage, status=422).json["fields"] == {"old_pin": "is required"}
    for left in (4, 3, 2, 1):
        error = testapp.post_json(url, {"pin": "5678", "old_pin": "0000"}, headers=manage, status=403).json
        assert error["fields"] == {"old_pin": f"wrong PIN, {left} {'try' if left == 1 else 'tries'} left"}
    error = testapp.post_json(url, {"pin": "5678", "old_pin": "0000"}, headers=manage, status=403).json
    assert error["fields"]["old_pin"].startswith("wrong PIN, card locked until")
    locked = card(db, card_no)
    assert locked.pin_failures == 5 and locked.pin_locked_until is not None
    error = testapp.post_json(url, {"pin": "5678", "old_pin": "1234"}, headers=manage, status=403).json
    assert error["fields"]["old_pin"].startswith("card locked until")

    reset = testapp.post_json(url, {"pin": "4321", "reset": True}, headers=manage).json
    assert reset["pin_locked_until"] is None and card(db, card_no).pin_failures == 0
    testapp.post_json(url, {"pin": "9876", "old_pin": "4321"}, headers=manage)


def test_pin_body_is_checked(testapp, manage, seed):
    card_no = seed.member_card()
    error = testapp.post_json(f"/api/v1/cards/{card_no}/pin", {"pin": "12345678", "reset": "yes", "old_pin": 1234},
                              headers=manage, status=400).json
    assert error["fields"] == {"pin": "must be 4 to 6 digits", "reset": "must be true or false",
                               "old_pin": "must be 4 to 6 digits"}


# Renewal

def test_renewal_by_days_and_to_a_date(testapp, manage, seed, db):
    card_no = seed.member_card()
    url = f"/api/v1/cards/{card_no}/renew"
    db.execute(update(Card).where(Card.card_no == card_no).values(valid_to=datetime(2030, 1, 1, tzinfo=UTC)))
    db.commit()
    assert testapp.post_json(url, {"days": 31}, headers=manage).json["valid_to"] == "2030-02-01T00:00:00Z"
    assert testapp.post_json(url, {"valid_to": "2031-01-01T00:00:00+08:00"},
                             headers=manage).json["valid_to"] == "2030-12-31T16:00:00Z"
    error = testapp.post_json(url, {"valid_to": "2030-06-01T00:00:00Z"}, headers=manage, status=422).json
    assert error["fields"] == {"valid_to": "must extend beyond 2030-12-31T16:00:00Z"}
    error = testapp.post_json(url, {"days": 1, "valid_to": "2035-01-01T00:00:00Z"}, headers=manage, status=400).json
    assert set(error["fields"]) == {"days", "valid_to"}


def test_an_expired_card_renews_from_today_and_cancelled_cards_do_not_renew(testapp, manage, seed, db):
    card_no = seed.member_card()
    db.execute(update(Card).where(Card.card_no == card_no).values(valid_to=datetime(2020, 1, 1, tzinfo=UTC)))
    db.commit()
    renewed = testapp.post_json(f"/api/v1/cards/{card_no}/renew", {"days": 10}, headers=manage).json
    assert renewed["valid_to"] > (datetime.now(UTC) + timedelta(days=9)).isoformat()[:19]
    testapp.post_json(f"/api/v1/cards/{card_no}/status", {"status": "cancelled", "reason": "x"}, headers=manage)
    error = testapp.post_json(f"/api/v1/cards/{card_no}/renew", {"days": 10}, headers=manage, status=409).json
    assert error["fields"] == {"card_no": "card is cancelled"}


def test_renewal_stops_at_the_card_types_end(testapp, manage, seed, db):
    card_no = seed.member_card()
    db.execute(update(CardType).where(CardType.code == "standard").values(valid_to=datetime(2031, 1, 1, tzinfo=UTC)))
    db.commit()
    error = testapp.post_json(f"/api/v1/cards/{card_no}/renew", {"valid_to": "2032-01-01T00:00:00Z"},
                              headers=manage, status=422).json
    assert error["fields"] == {"valid_to": "goes past the card type's end, 2031-01-01T00:00:00Z"}


# At the same time, over HTTP

CLIENTS = 5


def post_at_once(port, headers, path, bodies):
    return post_all_at_once(port, path, bodies, headers)


def test_simultaneous_wrong_pins_are_each_counted(server, manage, seed, db):
    card_no = seed.member_card()
    db.execute(update(Card).where(Card.card_no == card_no).values(pin_hash=hash_pin("2468")))
    db.commit()
    results = post_at_once(server, manage, f"/api/v1/cards/{card_no}/pin", [{"pin": "1111", "old_pin": "0000"}] * CLIENTS)
    assert [status for status, _ in results] == [403] * CLIENTS
    locked = card(db, card_no)
    assert locked.pin_failures == CLIENTS and locked.pin_locked_until is not None


def test_simultaneous_replacements_of_one_card_make_one_new_card(server, manage, seed, db):
    old = seed.member_card()
    fund(db, old, STORED_VALUE, 10_000)
    results = post_at_once(server, manage, f"/api/v1/cards/{old}/replace", [{"reason": "lost"}] * CLIENTS)
    assert sorted(status for status, _ in results) == [201] + [409] * (CLIENTS - 1)
    [new] = [answer["card_no"] for status, answer in results if status == 201]
    assert balances(db, new) == {STORED_VALUE: 10_000}
    assert db.scalar(select(Card.replaced_by_id).where(Card.card_no == old)) == card(db, new).id
