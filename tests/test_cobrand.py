"""Co-branded cards: a card type tied to a partner, whose discount and points multiplier the partner
funds. Each use writes one partner_benefit_costs row in the posting's transaction, a refund its
negative share; any other card writes nothing. A co-branded type numbers its cards in its own range."""
from decimal import Decimal

import pytest
from sqlalchemy import insert, select

from lps_core.cards.models import Card, CardType
from lps_core.cards.services import generate_pool
from lps_core.members.services import Enrolment, approve_member, enrol_member
from lps_core.outlets.models import Outlet, Property
from lps_core.partners.models import PartnerBenefitCost


@pytest.fixture
def auth(seed):
    return {"Authorization": f"Bearer {seed.api_key('REST')}"}


@pytest.fixture
def bakery(seed):
    """Partner BAKERY, and its co-branded card type: 10% off, points x2, numbers 6200-00005000.."""
    seed.db.execute(insert(Property).values(code="BAKERY", name="Partner Bakery", kind="partner"))
    partner_id = seed.db.scalar(select(Property.id).where(Property.code == "BAKERY"))
    seed.db.execute(insert(CardType).values(
        code="bakery", name="Bakery co-brand", prefix="62", discount_rate=Decimal("0.1"),
        points_multiplier=Decimal("2"), partner_property_id=partner_id, serial_from=5000, serial_to=5999))
    seed.db.commit()
    return partner_id


def card_of(seed, name, card_type):
    member_id = enrol_member(seed.db, Enrolment(name=name, channel="desk", phone="+8613911112222"))
    card_no = approve_member(seed.db, member_id, card_type_code=card_type)
    seed.db.commit()
    return card_no


def costs(seed):
    seed.db.commit()  # a new snapshot: what the app committed since
    return {row.key: row for row in seed.db.scalars(select(PartnerBenefitCost).order_by(PartnerBenefitCost.id))}


def settle(testapp, auth, card_no, bill_no="B1", amount="100.00", paid="90.00"):
    return testapp.post_json("/api/v1/settlements", {
        "card_no": card_no, "bill_no": bill_no, "tenders": [{"kind": "cash", "amount": paid}],
        "items": [{"sku": "BREAD", "category": "food", "qty": "1", "amount": amount}]}, headers=auth, status=201).json


def test_a_co_branded_settlement_writes_its_discount_and_extra_points_as_the_partners_cost(testapp, auth, seed,
                                                                                             bakery):
    card_no = card_of(seed, "Li Na", "bakery")
    assert card_no.startswith("62") and card_no[2:15] == f"{5000:013d}"
    doc = settle(testapp, auth, card_no)
    assert doc["points"] == 180  # 90.00 at 1 point per 1.00, x2 by the card
    rest = seed.db.scalar(select(Outlet.id).where(Outlet.code == "REST"))
    card = seed.db.scalar(select(Card).where(Card.card_no == card_no))
    rows = costs(seed)
    assert set(rows) == {f"settlement:{doc['id']}:discount", f"bill:{rest}:B1:points"}
    discount, points = rows[f"settlement:{doc['id']}:discount"], rows[f"bill:{rest}:B1:points"]
    assert (discount.kind, discount.amount, discount.points) == ("discount", Decimal("10.00"), 0)
    assert (points.kind, points.amount, points.points) == ("points", Decimal("0.00"), 90)
    for row in (discount, points):
        assert (row.property_id, row.card_id, row.member_id, row.outlet_id) == (bakery, card.id, card.member_id, rest)
    assert points.entry_id is not None

    url = f"/api/v1/settlements/{doc['id']}/refunds"
    first = testapp.post_json(url, {"refund_no": "R1", "amount": "30.00"}, headers=auth, status=201).json
    testapp.post_json(url, {"refund_no": "R1", "amount": "30.00"}, headers=auth, status=200)  # a replay: no new row
    second = testapp.post_json(url, {"refund_no": "R2"}, headers=auth, status=201).json
    rows = costs(seed)
    assert rows[f"settlement:{doc['id']}:discount:refund:{first['id']}"].amount == Decimal("-3.33")
    assert rows[f"settlement:{doc['id']}:discount:refund:{second['id']}"].amount == Decimal("-6.67")
    point_refunds = [row.points for key, row in rows.items() if key.startswith(f"bill:{rest}:B1:points:refund:")]
    assert point_refunds == [-30, -60]
    assert sum(row.amount for row in rows.values() if row.kind == "discount") == 0
    assert sum(row.points for row in rows.values() if row.kind == "points") == 0


def test_an_earn_request_on_a_co_branded_card_writes_the_multipliers_points_and_a_refund_takes_them_back(
        testapp, auth, seed, bakery):
    card_no = card_of(seed, "Li Na", "bakery")
    posted = testapp.post_json("/api/v1/transactions", {"card_no": card_no, "bill_no": "E1", "amount": "123.45"},
                               headers=auth, status=201).json
    assert posted["points"] == 246
    rest = seed.db.scalar(select(Outlet.id).where(Outlet.code == "REST"))
    assert costs(seed)[f"bill:{rest}:E1:points"].points == 123
    refund = testapp.post_json(f"/api/v1/transactions/{posted['id']}/reversal", {"refund_no": "R1", "amount": "50.00"},
                               headers=auth, status=201).json
    assert costs(seed)[f"bill:{rest}:E1:points:refund:{refund['id']}"].points == -(123 * 5000 // 12345)


def test_a_cap_takes_from_the_cards_extra_points_first():
    from lps_core.cards.cobrand import extra_points_of_card

    breakdown = [{"step": "formula", "points": 100}, {"step": "card_type", "rule": "bakery", "points": 100},
                 {"step": "cap", "rule": "max_points_per_bill", "points": -50}]
    assert extra_points_of_card(breakdown, "bakery") == 50
    assert extra_points_of_card(breakdown[:2], "bakery") == 100
    assert extra_points_of_card(breakdown[:1], "bakery") == 0


def test_a_card_without_a_partner_writes_no_cost(testapp, auth, seed, bakery):
    card_no = seed.member_card()
    seed.db.execute(CardType.__table__.update().where(CardType.code == "standard")
                    .values(discount_rate=Decimal("0.1"), points_multiplier=Decimal("2")))
    seed.db.commit()
    doc = settle(testapp, auth, card_no)
    assert doc["points"] == 180
    testapp.post_json(f"/api/v1/settlements/{doc['id']}/refunds", {"refund_no": "R1"}, headers=auth, status=201)
    assert costs(seed) == {}


def test_a_tier_discount_as_good_as_the_cards_costs_the_partner_nothing(testapp, auth, seed, bakery):
    from lps_core.members.models import Member, Tier

    card_no = card_of(seed, "Li Na", "bakery")
    seed.db.execute(Tier.__table__.update().where(Tier.code == "gold").values(discount_rate=Decimal("0.1")))
    seed.db.execute(Member.__table__.update().values(
        tier_id=select(Tier.id).where(Tier.code == "gold").scalar_subquery()))
    seed.db.commit()
    doc = settle(testapp, auth, card_no)
    assert f"settlement:{doc['id']}:discount" not in costs(seed)


def test_a_co_branded_type_numbers_its_cards_in_its_own_range(seed, bakery):
    numbers = generate_pool(seed.db, 3, card_type_code="bakery")
    assert [number[2:15] for number in numbers] == [f"{serial:013d}" for serial in (5000, 5001, 5002)]
    seed.db.execute(CardType.__table__.update().where(CardType.code == "bakery").values(serial_to=5003))
    generate_pool(seed.db, 1, card_type_code="bakery")
    from lps_core.errors import Conflict

    with pytest.raises(Conflict) as refused:
        generate_pool(seed.db, 1, card_type_code="bakery")
    assert refused.value.fields == {"serial_to": "the range is exhausted"}


def test_the_card_types_api_takes_the_partner_and_the_number_range(testapp, auth, seed, bakery):
    body = {"code": "bakery2", "name": "Bakery 2", "prefix": "62", "partner": "BAKERY", "serial_from": 6000,
            "serial_to": 6999, "discount_rate": "0.05"}
    created = testapp.post_json("/api/v1/card-types", body, headers=auth, status=201).json
    assert (created["partner"], created["serial_from"], created["serial_to"]) == ("BAKERY", 6000, 6999)
    overlap = testapp.post_json("/api/v1/card-types", {**body, "code": "bakery3", "serial_from": 5999},
                                headers=auth, status=422).json
    assert overlap["fields"] == {"serial_from": "overlaps the numbers of card type bakery with prefix 62"}
    hotel = testapp.post_json("/api/v1/card-types", {**body, "code": "x", "prefix": "63", "partner": "T"},
                              headers=auth, status=422).json
    assert hotel["fields"] == {"partner": "is not a partner (kind partner)"}
    one_end = testapp.put_json("/api/v1/card-types/bakery2", {"serial_to": None}, headers=auth, status=422).json
    assert one_end["fields"] == {"serial_to": "give both serial_from and serial_to, or neither"}
    shared = testapp.put_json("/api/v1/card-types/standard", {"prefix": "62"}, headers=auth, status=422).json
    assert "has its own number range" in shared["fields"]["prefix"]
    bad = testapp.post_json("/api/v1/card-types", {**body, "code": "y", "serial_from": 0}, headers=auth, status=400)
    assert "serial_from" in bad.json["fields"]
    cleared = testapp.put_json("/api/v1/card-types/bakery2", {"partner": None}, headers=auth, status=200).json
    assert cleared["partner"] is None


def test_a_co_branded_earn_adds_one_insert_and_another_card_none(counted_app, seed, bakery):
    """On PostgreSQL, counted: the same earn request on a standard card and on a co-branded one
    differ by exactly the cost row's INSERT."""
    app, statements = counted_app
    auth = {"Authorization": f"Bearer {seed.api_key('REST')}"}
    cards = {"standard": seed.member_card(), "bakery": card_of(seed, "Li Na", "bakery")}

    def earn(card_no, bill_no):
        statements.clear()
        app.post_json("/api/v1/transactions", {"card_no": card_no, "bill_no": bill_no, "amount": "10.00"},
                      headers=auth, status=201)
        return list(statements)

    earn(cards["standard"], "warm-up")
    earn(cards["bakery"], "warm-up-2")
    plain, cobranded = earn(cards["standard"], "S1"), earn(cards["bakery"], "C1")
    extra = [statement for statement in cobranded if statement.startswith("INSERT INTO partner_benefit_costs")]
    assert len(extra) == 1 and len(cobranded) == len(plain) + 1
    assert not any("partner_benefit_costs" in statement for statement in plain)
