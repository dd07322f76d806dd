"""The cashier's look-up reads each card in one SELECT (lps_core.cashier.lookup): its picture shows
the same balances as the card's accounts (lps_core.cards.funds.card_balances) and the holder's
points, a replaced card names its successor, and on PostgreSQL a look-up by card number or by phone
sends BEGIN, one SELECT and COMMIT."""
from decimal import Decimal

import pytest
from sqlalchemy import insert, select, update

from lps_core.cards.funds import card_balances
from lps_core.cards.models import Card, CardType
from lps_core.cashier.documents import balances_json
from lps_core.ledger.models import POINTS, Account
from lps_core.members.models import Member, Tier
from lps_core.members.services import Enrolment, approve_member, enrol_member


@pytest.fixture
def auth(seed):
    return {"Authorization": f"Bearer {seed.api_key('REST')}"}


@pytest.fixture
def products(seed):
    """A prepaid card (stored value, deposit bonus, credit line) and a count card."""
    seed.db.execute(insert(CardType), [
        {"code": "prepaid", "name": "Prepaid", "prefix": "8801", "discount_rate": Decimal("0.1"), "stored_value": True,
         "deposit_bonuses": [{"min_deposit": "500.00", "bonus": "40.00"}], "credit_limit_cents": 100000},
        {"code": "spa10", "name": "Spa 10", "prefix": "8802", "initial_uses": 0},
    ])
    seed.db.commit()


def member_card(seed, name, card_type, phone, tier=None):
    member_id = enrol_member(seed.db, Enrolment(name=name, channel="desk", phone=phone))
    card_no = approve_member(seed.db, member_id, card_type_code=card_type)
    if tier:
        seed.db.execute(update(Member).where(Member.id == member_id)
                        .values(tier_id=select(Tier.id).where(Tier.code == tier).scalar_subquery()))
    seed.db.commit()
    return card_no


def accounts_say(seed, card_no):
    """The balances as the card's and member's accounts give them, read row by row through the ORM."""
    seed.db.expire_all()
    card = seed.db.scalar(select(Card).where(Card.card_no == card_no))
    balances = card_balances(seed.db, card, card.card_type)
    balances["points"] = seed.db.scalar(select(Account.balance).where(
        Account.member_id == card.member_id, Account.kind == POINTS)) if card.member_id else None
    return balances_json(balances)


def look_up(testapp, auth, **query):
    return testapp.get("/api/v1/cashier/lookup", query, headers=auth).json["matches"]


def test_the_picture_shows_what_the_accounts_hold(testapp, auth, seed, products):
    prepaid = member_card(seed, "Qian Yu", "prepaid", "+8613911110001", tier="gold")
    count = member_card(seed, "Sun Li", "spa10", "+8613911110002")
    plain = seed.member_card("Li Na")
    testapp.post_json(f"/api/v1/cards/{prepaid}/deposits", {"deposit_no": "D1", "amount": "600.00", "tender": "cash"},
                      headers=auth, status=201)
    testapp.post_json(f"/api/v1/cards/{count}/uses", {"topup_no": "T1", "uses": 5, "amount": "100.00",
                                                      "tender": "cash"}, headers=auth, status=201)
    testapp.post_json("/api/v1/transactions", {"card_no": plain, "bill_no": "B1", "amount": "120.00"},
                      headers=auth, status=201)
    for card_no in (prepaid, count, plain):
        [picture] = look_up(testapp, auth, card_no=card_no)
        assert picture["balances"] == accounts_say(seed, card_no)
    [picture] = look_up(testapp, auth, card_no=prepaid)
    assert picture["balances"]["stored_value"] == "600.00" and picture["balances"]["bonus_value"] == "40.00"
    assert picture["balances"]["credit_left"] == "1000.00"
    assert picture["tier"]["code"] == "gold" and picture["member"]["phone"] == "+8613911110001"
    [picture] = look_up(testapp, auth, card_no=count)
    assert picture["balances"]["uses"] == 5 and picture["balances"]["stored_value"] is None
    [picture] = look_up(testapp, auth, card_no=plain)
    assert picture["balances"]["points"] > 0 and picture["balances"]["credit_limit"] is None


def test_a_replaced_card_names_its_successor_and_the_phone_finds_only_the_new_one(testapp, auth, seed, products):
    old_no = member_card(seed, "Zhou Xun", "prepaid", "+8613911110003")
    new_no = testapp.post_json(f"/api/v1/cards/{old_no}/replace", {"reason": "lost"}, headers={
        "Authorization": f"Bearer {seed.api_key('REST', scopes=('cards.manage',))}"}, status=201).json["card_no"]
    [old] = look_up(testapp, auth, card_no=old_no)
    assert old["status"] == "replaced" and not old["usable"]
    assert old["warnings"] == [f"card was replaced by {new_no}"]
    [found] = look_up(testapp, auth, phone="139 1111 0003")
    assert found["card_no"] == new_no and found["usable"]


def test_a_card_without_a_holder_shows_no_member_tier_or_points(testapp, auth, seed, products):
    from lps_core.cards.services import generate_pool

    [card_no] = generate_pool(seed.db, 1, card_type_code="prepaid")
    seed.db.execute(update(Card).where(Card.card_no == card_no).values(status="active"))
    seed.db.commit()
    [picture] = look_up(testapp, auth, card_no=card_no)
    assert picture["member"] is None and picture["tier"] is None
    assert picture["balances"] == accounts_say(seed, card_no) and picture["balances"]["points"] is None


def test_every_card_of_the_phone_comes_in_name_then_card_order(testapp, auth, seed, products):
    from lps_core.cards.services import issue_card

    first = member_card(seed, "Wang Fang", "prepaid", "+8613911110004")
    member_id = seed.db.scalar(select(Card.member_id).where(Card.card_no == first))
    second = issue_card(seed.db, member_id, card_type_code="spa10")
    other = enrol_member(seed.db, Enrolment(name="Bai Fang", channel="desk", phone="+8613911110004"),
                         force_duplicate_phone=True)
    third = approve_member(seed.db, other)
    seed.db.commit()
    found = look_up(testapp, auth, phone="+86 139 1111 0004")
    assert [(m["member"]["name"], m["card_no"]) for m in found] == [
        ("Bai Fang", third), ("Wang Fang", first), ("Wang Fang", second)]


@pytest.mark.parametrize("by", ["card_no", "phone"])
def test_a_cashier_look_up_is_one_select(counted_app, seed, by):
    app, statements = counted_app
    auth = {"Authorization": f"Bearer {seed.api_key('REST')}"}
    card_no = member_card(seed, "Zheng Hao", None, "+8613911110005")
    query = {"card_no": card_no} if by == "card_no" else {"phone": "13911110005"}
    app.get("/api/v1/cashier/lookup", query, headers=auth, status=200)  # warm-up: caches
    statements.clear()
    [picture] = app.get("/api/v1/cashier/lookup", query, headers=auth, status=200).json["matches"]
    assert picture["card_no"] == card_no
    assert len(statements) == 3, "\n".join(statements)
    assert statements[0] == "BEGIN" and statements[1].startswith("SELECT") and statements[2] == "COMMIT"
