"""The rooms earning formula: room revenue earns, nights and stays count, incidentals earn elsewhere."""
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from zope.interface.verify import verifyObject

from lps_core.contract import BillInput, BillLine, IEarningFormula
from lps_rooms import RoomsFormula

pytest_plugins = ["lps_core.testing"]

AT = datetime(2026, 5, 1, 11, 0, tzinfo=timezone.utc)


def bill(amount_cents, *lines):
    return BillInput("FRONT-DESK", "F-1001", amount_cents, AT,
                     tuple(BillLine(sku, category, Decimal(qty), cents) for sku, category, qty, cents in lines))


@pytest.fixture
def rooms():
    return RoomsFormula()


def compute(rooms, a_bill, **params):
    return rooms.compute(a_bill, rooms.validate_params(params))


def test_the_formula_is_registered_from_its_entry_point(plugins):
    formula = plugins.formula("rooms")
    assert isinstance(formula, RoomsFormula)
    assert verifyObject(IEarningFormula, formula)
    assert "rooms" in plugins.plugin_names()


def test_worked_example_from_the_docstring(rooms):
    folio = bill(174500, ("STE", "suite", "3", 150000), ("CITY", "city_tax", "1", 4500),
                 ("DINNER", "fnb", "1", 20000))
    result = compute(rooms, folio, points_per_unit="5", unit="10", room_categories=["room", "suite"],
                     excluded_categories=["tax", "service_charge", "city_tax"])
    assert result.points == 750  # 1500.00 / 10.00 x 5
    assert result.qualifying == {"nights": 3, "stays": 1}
    (step,) = result.steps
    assert step["step"] == "formula" and step["rule"] == "rooms" and step["points"] == 750
    assert step["description"].startswith("5 points per 10.00 on 1500.00 room revenue (3 nights)")
    assert "45.00 of city_tax left out" in step["description"]
    assert "200.00 of incidentals (fnb) earn nothing here" in step["description"]
    assert "their own outlet" in step["description"]


def test_default_parameters_one_point_per_unit_of_room_revenue(rooms):
    folio = bill(113000, ("DLX", "room", "2", 100000), ("VAT", "tax", "1", 6000), ("SC", "service_charge", "1", 7000))
    result = compute(rooms, folio)
    assert result.points == 1000
    assert result.qualifying == {"nights": 2, "stays": 1}
    description = result.steps[0]["description"]
    assert description.startswith("1 point per 1.00 on 1000.00 room revenue (2 nights), rounded down")
    assert "130.00 of tax, service_charge left out" in description
    assert "incidentals" not in description


def test_several_room_lines_add_their_nights_and_revenue_as_one_stay(rooms):
    folio = bill(250000, ("DLX", "room", "2", 160000), ("STD", "room", "1", 60000), ("EXB", "room", "1", 30000))
    result = compute(rooms, folio)
    assert result.points == 2500
    assert result.qualifying == {"nights": 4, "stays": 1}


def test_incidentals_earn_nothing_here(rooms):
    folio = bill(130000, ("DLX", "room", "1", 80000), ("SPA-60", "spa", "1", 30000), ("MINIBAR", "fnb", "3", 20000))
    result = compute(rooms, folio)
    assert result.points == 800
    assert result.qualifying == {"nights": 1, "stays": 1}
    assert "(1 night)" in result.steps[0]["description"]
    assert "500.00 of incidentals (spa, fnb) earn nothing here" in result.steps[0]["description"]


def test_a_bill_of_only_incidentals_earns_nothing_and_is_no_stay(rooms):
    result = compute(rooms, bill(30000, ("SPA-60", "spa", "1", 30000)))
    assert result.points == 0
    assert result.qualifying == {"nights": 0, "stays": 0}
    assert result.steps[0]["points"] == 0


@pytest.mark.parametrize(("qty", "nights", "stays"), [
    ("0.5", 0, 0),  # a day-use room: revenue earns, but no night and no stay
    ("1", 1, 1),
    ("1.99", 1, 1),
    ("2.5", 2, 1),
    ("14", 14, 1),
])
def test_nights_are_rounded_down_to_whole_nights(rooms, qty, nights, stays):
    result = compute(rooms, bill(40000, ("DAY", "room", qty, 40000)))
    assert result.points == 400
    assert result.qualifying == {"nights": nights, "stays": stays}


def test_fractional_nights_add_up_before_rounding(rooms):
    result = compute(rooms, bill(40000, ("A", "room", "0.5", 20000), ("B", "room", "0.5", 20000)))
    assert result.qualifying == {"nights": 1, "stays": 1}


def test_a_bill_without_items_is_all_room_revenue_with_no_nights_by_default(rooms):
    result = compute(rooms, bill(54321))
    assert result.points == 543
    assert result.qualifying == {"nights": 0, "stays": 0}
    assert "no item lines: the whole bill is room revenue" in result.steps[0]["description"]


def test_nights_when_no_items(rooms):
    result = compute(rooms, bill(54321), nights_when_no_items=1)
    assert result.qualifying == {"nights": 1, "stays": 1}
    assert "(1 night)" in result.steps[0]["description"]


def test_an_itemised_bill_earns_on_room_lines_only_not_on_the_amount_no_line_covers(rooms):
    result = compute(rooms, bill(100000, ("DLX", "room", "1", 80000)))
    assert result.points == 800
    assert "200.00 not itemised earns nothing" in result.steps[0]["description"]


@pytest.mark.parametrize(("cents", "params", "points"), [
    (0, {}, 0),
    (99, {}, 0),
    (100, {}, 1),
    (199, {}, 1),
    (999, {"unit": "10"}, 0),
    (1000, {"unit": "10"}, 1),
    (1000, {"points_per_unit": "1.5"}, 15),
    (1099, {"points_per_unit": "1.5"}, 16),  # 16.485 rounded down
    (1, {"points_per_unit": "100", "unit": "0.01"}, 100),
    (30000, {"points_per_unit": "1", "unit": "3"}, 100),
    (29999, {"points_per_unit": "1", "unit": "3"}, 99),
])
def test_points_are_rounded_down_once_on_room_revenue(rooms, cents, params, points):
    result = compute(rooms, bill(cents, ("DLX", "room", "1", cents)), **params)
    assert result.points == points
    assert result.steps[0]["points"] == points


def test_description_uses_the_singular_for_one_point_and_shows_the_unit_as_money(rooms):
    one = compute(rooms, bill(10000, ("DLX", "room", "1", 10000)))
    assert one.steps[0]["description"].startswith("1 point per 1.00 on 100.00 room revenue (1 night)")
    many = compute(rooms, bill(10000, ("DLX", "room", "1", 10000)), points_per_unit="2.50", unit="100")
    assert many.steps[0]["description"].startswith("2.5 points per 100.00 on 100.00 room revenue")


def test_compute_applies_defaults_to_parameters_saved_before_a_new_one_existed(rooms):
    result = rooms.compute(bill(10000), {"points_per_unit": "2"})
    assert result.points == 200
    assert result.qualifying == {"nights": 0, "stays": 0}


def test_validate_params_fills_defaults_and_normalises(rooms):
    assert rooms.validate_params({}) == {
        "points_per_unit": "1", "unit": "1", "room_categories": ["room"],
        "excluded_categories": ["tax", "service_charge"], "nights_when_no_items": 0,
    }
    cleaned = rooms.validate_params({"points_per_unit": 2, "unit": " 0.50 ", "room_categories": [" room ", "suite"],
                                     "excluded_categories": []})
    assert cleaned["points_per_unit"] == "2"
    assert cleaned["unit"] == "0.50"
    assert cleaned["room_categories"] == ["room", "suite"]
    assert cleaned["excluded_categories"] == []
    assert rooms.validate_params(cleaned) == cleaned


@pytest.mark.parametrize(("params", "message"), [
    ({"points": "1"}, "unknown parameter(s): points"),
    ({"rate": "1", "extra": 2}, "unknown parameter(s): extra, rate"),
    ({"points_per_unit": "0"}, "points_per_unit must be greater than 0"),
    ({"points_per_unit": "-1"}, "points_per_unit must be greater than 0"),
    ({"points_per_unit": "NaN"}, "points_per_unit must be greater than 0"),
    ({"points_per_unit": "Infinity"}, "points_per_unit must be greater than 0"),
    ({"points_per_unit": "many"}, "points_per_unit must be a decimal number"),
    ({"points_per_unit": True}, "points_per_unit must be a decimal number"),
    ({"points_per_unit": None}, "points_per_unit must be a decimal number"),
    ({"unit": "0"}, "unit must be greater than 0"),
    ({"unit": "0.001"}, "unit must be an amount of currency with at most 2 decimal places"),
    ({"room_categories": "room"}, "room_categories must be a list of category names"),
    ({"room_categories": ["room", 3]}, "room_categories must be a list of category names"),
    ({"room_categories": ["room", " "]}, "room_categories must be a list of category names"),
    ({"room_categories": []}, "room_categories must name at least one category"),
    ({"excluded_categories": {"tax": True}}, "excluded_categories must be a list of category names"),
    ({"excluded_categories": ["tax", None]}, "excluded_categories must be a list of category names"),
    ({"excluded_categories": ["room"]},
     "category 'room' cannot be in both room_categories and excluded_categories"),
    ({"room_categories": ["room", "tax", "suite"], "excluded_categories": ["suite", "tax"]},
     "categories 'suite', 'tax' cannot be in both room_categories and excluded_categories"),
    ({"nights_when_no_items": -1}, "nights_when_no_items must be a whole number of nights, 0 or more"),
    ({"nights_when_no_items": 1.5}, "nights_when_no_items must be a whole number of nights, 0 or more"),
    ({"nights_when_no_items": "1"}, "nights_when_no_items must be a whole number of nights, 0 or more"),
    ({"nights_when_no_items": True}, "nights_when_no_items must be a whole number of nights, 0 or more"),
])
def test_invalid_parameters_are_refused_naming_the_parameter(rooms, params, message):
    with pytest.raises(ValueError) as raised:
        rooms.validate_params(params)
    assert message in str(raised.value)


def test_parameters_must_be_a_mapping(rooms):
    with pytest.raises(ValueError, match="parameters must be an object"):
        rooms.validate_params(["points_per_unit"])


CATEGORIES = st.sampled_from(["room", "suite", "tax", "service_charge", "fnb", "spa", ""])
LINES = st.tuples(st.text("ABC-1", min_size=1, max_size=4), CATEGORIES,
                  st.decimals(min_value=Decimal("0.01"), max_value=Decimal("60"), places=2),
                  st.integers(min_value=0, max_value=10**9))
PARAMS = st.fixed_dictionaries({}, optional={
    "points_per_unit": st.decimals(min_value=Decimal("0.001"), max_value=Decimal("1000"), places=3).map(str),
    "unit": st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1000"), places=2).map(str),
    "room_categories": st.sampled_from([["room"], ["room", "suite"], ["suite"]]),
    "nights_when_no_items": st.integers(min_value=0, max_value=30),
})


@given(lines=st.lists(LINES, max_size=8), extra_cents=st.integers(min_value=0, max_value=10**9), params=PARAMS)
def test_steps_add_up_to_the_points_which_are_never_negative(lines, extra_cents, params):
    rooms = RoomsFormula()
    cleaned = rooms.validate_params(params)
    amount = sum(line[3] for line in lines) + extra_cents
    result = rooms.compute(bill(amount, *[(s, c, str(q), a) for s, c, q, a in lines]), cleaned)
    assert result.points >= 0
    assert sum(step["points"] for step in result.steps) == result.points
    assert all(step["step"] == "formula" and step["rule"] == "rooms" for step in result.steps)
    assert result.qualifying["stays"] == (1 if result.qualifying["nights"] > 0 else 0)
    assert result.qualifying["nights"] >= 0
