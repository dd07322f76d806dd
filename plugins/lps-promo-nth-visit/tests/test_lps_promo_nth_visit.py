"""The nth_visit promotion kind: its parameters, its arithmetic, and a promotion of it through LPS's
API, on at the outlet it is switched on for and not at another."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from zope.interface.verify import verifyObject

from lps_core.contract import BillInput, IPromotionKind, MemberContext, PromotionContext
from lps_promo_nth_visit import NthVisit, ordinal

pytest_plugins = ["lps_core.testing"]

NOW = datetime.now(timezone.utc)


class Promotion:
    name = "Fifth visit"
    outlets = None

    def __init__(self, **params):
        self.params = params


class History:
    """Facts of a member who had `bills` bills before this one."""

    def __init__(self, bills):
        self.bills = bills

    def bill_count(self, promotion):
        return self.bills


def context(bills_before):
    return PromotionContext(BillInput("REST", "B", 10000, NOW), MemberContext(1), Decimal(100), True,
                            History(bills_before))


def test_the_kind_is_registered_from_its_entry_point_and_off_until_switched_on(plugins):
    component = plugins.component("promotion_kind", "nth_visit")
    assert verifyObject(IPromotionKind, component.obj)
    assert (component.distribution, component.from_core) == ("lps-promo-nth-visit", False)


@pytest.mark.parametrize("params, message", [
    ({"points": 10}, "every is required"),
    ({"every": 1, "points": 10}, "every must be at least 2 and at most 1000"),
    ({"every": "x", "points": 10}, "every must be a whole number"),
    ({"every": 3, "points": 0}, "points must be at least 1 and at most 1000000"),
    ({"every": 3, "points": 10, "bonus": 1}, "bonus is not a parameter of nth_visit (it takes every and points)"),
])
def test_bad_parameters_are_named(params, message):
    with pytest.raises(ValueError) as error:
        NthVisit().validate_params(params)
    assert str(error.value) == message


def test_every_nth_bill_earns_the_bonus_and_the_others_nothing():
    kind, promotion = NthVisit(), Promotion(every=3, points=50)
    assert [kind.evaluate(promotion, context(before)) for before in range(7)] == [0, 0, 50, 0, 0, 50, 0]
    assert kind.explain(promotion, 50) == "Fifth visit: +50 on every 3rd visit"
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 102)] == \
        ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "102nd"]


# Through LPS: the promotion is created over the API, the kind switched on at REST only.

def post_bill(testapp, key, card_no, bill_no):
    return testapp.post_json("/api/v1/transactions", {"card_no": card_no, "bill_no": bill_no, "amount": "10.00"},
                             headers={"Authorization": f"Bearer {key}"}, status=201).json


def bonus_of(answer):
    return [step["points"] for step in answer["breakdown"] if step["step"] == "promotion"]


@pytest.fixture
def third_visit(testapp, seed):
    """A promotion of every 3rd visit, +50, at every outlet; the kind on at REST only."""
    key = seed.api_key("REST")
    testapp.post_json("/api/v1/promotions", {
        "code": "THIRD", "name": "Third visit", "kind": "nth_visit", "params": {"every": 3, "points": 50},
        "starts_at": (NOW - timedelta(days=1)).isoformat(), "ends_at": (NOW + timedelta(days=30)).isoformat(),
    }, headers={"Authorization": f"Bearer {key}"}, status=201)
    seed.switch("promotion_kind", "nth_visit", outlet="REST")
    return key


def test_the_nth_bill_earns_the_bonus_at_the_outlet_the_kind_is_on_at(testapp, seed, third_visit):
    card_no = seed.member_card()
    answers = [post_bill(testapp, third_visit, card_no, f"R{number}") for number in range(1, 4)]
    assert [bonus_of(answer) for answer in answers] == [[], [], [50]]
    assert answers[2]["points"] == 10 + 50
    assert "Third visit: +50 on every 3rd visit" in [step["description"] for step in answers[2]["breakdown"]]


def test_not_at_an_outlet_where_the_kind_is_off(testapp, seed, third_visit):
    card_no = seed.member_card()
    spa = seed.api_key("SPA")
    answers = [post_bill(testapp, spa, card_no, f"S{number}") for number in range(1, 4)]
    assert [bonus_of(answer) for answer in answers] == [[], [], []]
    assert bonus_of(post_bill(testapp, third_visit, card_no, "R1")) == []  # the 4th bill
    seed.switch("promotion_kind", "nth_visit", outlet="SPA")
    assert bonus_of(post_bill(testapp, spa, card_no, "S4")) == []
    assert bonus_of(post_bill(testapp, spa, card_no, "S5")) == [50]  # the 6th bill, now that SPA has it on


def test_bad_parameters_answer_422_naming_params(testapp, seed):
    answer = testapp.post_json("/api/v1/promotions", {
        "code": "BAD", "name": "Bad", "kind": "nth_visit", "params": {"every": 1, "points": 50},
        "starts_at": (NOW - timedelta(days=1)).isoformat(), "ends_at": (NOW + timedelta(days=30)).isoformat(),
    }, headers={"Authorization": f"Bearer {seed.api_key('REST')}"}, status=422).json
    assert answer["fields"] == {"params": "every must be at least 2 and at most 1000"}
