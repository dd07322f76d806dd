"""The category_rate earning formula: rates by SKU, category or default; exact lines, one rounding."""
from datetime import datetime, timezone
from decimal import ROUND_FLOOR, Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st
from zope.interface.verify import verifyObject

from lps_category_rate import CategoryRateFormula
from lps_core.contract import BillInput, BillLine, IEarningFormula

pytest_plugins = ["lps_core.testing"]

AT = datetime(2026, 5, 1, 19, 30, tzinfo=timezone.utc)
RESTAURANT = {"category_rates": {"wine": "2", "tobacco": "0"}, "sku_rates": {"CHEF-TASTING": "3"}}


def bill(amount_cents, *lines):
    return BillInput("REST", "R-2001", amount_cents, AT,
                     tuple(BillLine(sku, category, Decimal(qty), cents) for sku, category, qty, cents in lines))


@pytest.fixture
def formula():
    return CategoryRateFormula()


def compute(formula, a_bill, **params):
    return formula.compute(a_bill, formula.validate_params(params))


def summary(result):
    return [(step["description"], step["points"]) for step in result.steps]


def test_the_formula_is_registered_from_its_entry_point(plugins):
    found = plugins.formula("category_rate")
    assert isinstance(found, CategoryRateFormula)
    assert verifyObject(IEarningFormula, found)
    assert "category_rate" in plugins.plugin_names()


def test_worked_example_from_the_docstring(formula):
    result = compute(formula, bill(47000, ("MERLOT", "wine", "2", 30000), ("STEAK", "food", "1", 10000),
                                   ("SC", "service_charge", "1", 3000)), **RESTAURANT)
    assert result.points == 740
    assert summary(result) == [
        ("2 points per 1.00 on 300.00 of category wine", 600),
        ("1 point per 1.00 on 140.00 at the default rate (40.00 of it not itemised)", 140),
        ("30.00 of service_charge earns no points (excluded categories)", 0),
    ]
    assert all(step["step"] == "formula" and step["rule"] == "category_rate" for step in result.steps)
    assert result.qualifying == {}


def test_the_issue_example_wine_and_default(formula):
    result = compute(formula, bill(42000, ("MERLOT", "wine", "1", 30000), ("STEAK", "food", "1", 12000)),
                     category_rates={"wine": "2"})
    assert result.points == 720
    assert summary(result) == [
        ("2 points per 1.00 on 300.00 of category wine", 600),
        ("1 point per 1.00 on 120.00 at the default rate", 120),
    ]


def test_a_sku_rate_wins_over_its_categorys(formula):
    result = compute(formula, bill(50000, ("CHEF-TASTING", "food", "2", 40000), ("SOUP", "food", "1", 10000)),
                     category_rates={"food": "1.5"}, sku_rates={"CHEF-TASTING": "3"})
    assert result.points == 1350
    assert summary(result) == [
        ("3 points per 1.00 on 400.00 of SKU CHEF-TASTING", 1200),
        ("1.5 points per 1.00 on 100.00 of category food", 150),
    ]


def test_an_excluded_category_earns_nothing_even_for_a_sku_with_a_rate(formula):
    result = compute(formula, bill(10000, ("CHEF-TASTING", "tax", "1", 10000)), sku_rates={"CHEF-TASTING": "3"})
    assert result.points == 0
    assert summary(result) == [("100.00 of tax earns no points (excluded categories)", 0)]


def test_lines_of_one_group_are_added_in_the_order_the_bill_shows_them(formula):
    result = compute(formula, bill(10000, ("T1", "food", "1", 1000), ("W1", "wine", "1", 2000),
                                   ("SPA", "retail", "1", 500), ("W2", "wine", "1", 3000),
                                   ("TAX", "tax", "1", 600), ("SC", "service_charge", "1", 400)),
                     category_rates={"wine": "2", "retail": "4"})
    assert summary(result) == [
        ("2 points per 1.00 on 50.00 of category wine", 100),
        ("4 points per 1.00 on 5.00 of category retail", 20),
        ("1 point per 1.00 on 35.00 at the default rate (25.00 of it not itemised)", 35),
        ("10.00 of tax, service_charge earns no points (excluded categories)", 0),
    ]
    assert result.points == 155


def test_a_zero_rate_makes_a_sku_or_category_earn_nothing(formula):
    result = compute(formula, bill(15000, ("GIFT-CARD", "retail", "1", 5000), ("CIGARS", "tobacco", "1", 10000)),
                     category_rates={"tobacco": "0"}, sku_rates={"GIFT-CARD": "0"})
    assert result.points == 0
    assert [points for _, points in summary(result)] == [0, 0]


def test_a_zero_default_rate_earns_only_on_listed_categories(formula):
    result = compute(formula, bill(20000, ("MERLOT", "wine", "1", 5000), ("STEAK", "food", "1", 10000)),
                     default_rate="0", category_rates={"wine": "2"})
    assert result.points == 100
    assert summary(result)[-1] == ("0 points per 1.00 on 150.00 at the default rate (50.00 of it not itemised)", 0)


def test_a_bill_without_items_earns_at_the_default_rate(formula):
    result = compute(formula, bill(12345), default_rate="2", unit="10")
    assert result.points == 24  # 123.45 / 10 x 2 = 24.69
    assert summary(result) == [
        ("2 points per 10.00 on 123.45 at the default rate (123.45 of it not itemised); "
         "24.69 before rounding down", 24),
    ]


def test_an_empty_bill_earns_nothing_with_one_step(formula):
    result = compute(formula, bill(0))
    assert result.points == 0
    assert summary(result) == [("1 point per 1.00 on 0.00 at the default rate", 0)]


def test_items_adding_up_to_more_than_the_bill_leave_nothing_unitemised(formula):
    result = compute(formula, bill(1000, ("A", "food", "1", 1500)))
    assert result.points == 15


def test_the_total_is_rounded_down_once_and_the_fractions_go_to_a_final_rounding_step(formula):
    # wine 1.01 x 1.5 = 1.515 and food 0.99 x 1 = 0.99: 2.505 points in all, 2 after rounding once;
    # rounded down one by one the steps would give only 1.
    result = compute(formula, bill(200, ("W", "wine", "1", 101), ("F", "food", "1", 99)),
                     category_rates={"wine": "1.5"})
    assert result.points == 2
    assert summary(result) == [
        ("1.5 points per 1.00 on 1.01 of category wine; 1.51 before rounding down", 1),
        ("1 point per 1.00 on 0.99 at the default rate; 0.99 before rounding down", 0),
        ("rounding: the fractions of the steps above add up to 1 more point "
         "(the bill's exact 2.50 points are rounded down once)", 1),
    ]


def test_many_small_lines_lose_less_than_a_point_in_all(formula):
    lines = [(f"SKU{i}", f"cat{i}", "1", 150) for i in range(10)]  # 1.50 each at 1 point per 1.00
    result = compute(formula, bill(1500, *lines), category_rates={f"cat{i}": "1" for i in range(10)})
    assert result.points == 15
    assert sum(step["points"] for step in result.steps) == 15
    assert result.steps[-1]["points"] == 5
    assert result.steps[-1]["description"].startswith(
        "rounding: the fractions of the steps above add up to 5 more points")


def test_an_unrounded_bill_has_no_rounding_step(formula):
    result = compute(formula, bill(300, ("W", "wine", "1", 100), ("F", "food", "1", 200)),
                     category_rates={"wine": "2"})
    assert result.points == 4
    assert not any("rounding" in description for description, _ in summary(result))


@pytest.mark.parametrize(("cents", "params", "points"), [
    (99, {}, 0),
    (100, {}, 1),
    (999, {"unit": "10"}, 0),
    (1000, {"unit": "10"}, 1),
    (1, {"default_rate": "100", "unit": "0.01"}, 100),
    (29999, {"unit": "3"}, 99),
    (30000, {"unit": "3"}, 100),
    (10**12, {"default_rate": "0.001"}, 10**7),
])
def test_boundaries_of_rounding_down(formula, cents, params, points):
    assert compute(formula, bill(cents), **params).points == points


def test_compute_applies_defaults_to_parameters_saved_before_a_new_one_existed(formula):
    result = formula.compute(bill(1000, ("W", "wine", "1", 1000)), {"category_rates": {"wine": "3"}})
    assert result.points == 30


def test_validate_params_fills_defaults_and_normalises(formula):
    assert formula.validate_params({}) == {"default_rate": "1", "unit": "1", "category_rates": {}, "sku_rates": {},
                                          "excluded_categories": ["tax", "service_charge"]}
    cleaned = formula.validate_params({"default_rate": 0, "unit": "0.50", "category_rates": {"wine": 2},
                                       "sku_rates": {"GIFT": "0"}, "excluded_categories": [" tax "]})
    assert cleaned == {"default_rate": "0", "unit": "0.50", "category_rates": {"wine": "2"},
                       "sku_rates": {"GIFT": "0"}, "excluded_categories": ["tax"]}
    assert formula.validate_params(cleaned) == cleaned


@pytest.mark.parametrize(("params", "message"), [
    ({"rate": "1"}, "unknown parameter(s): rate"),
    ({"points_per_unit": "2", "category": "wine"}, "unknown parameter(s): category, points_per_unit"),
    ({"default_rate": "-1"}, "default_rate must be 0 or more"),
    ({"default_rate": "lots"}, "default_rate must be a decimal number"),
    ({"default_rate": False}, "default_rate must be a decimal number"),
    ({"default_rate": "sNaN"}, "default_rate must be 0 or more"),
    ({"unit": "0"}, "unit must be greater than 0"),
    ({"unit": "-5"}, "unit must be greater than 0"),
    ({"unit": "1.005"}, "unit must be an amount of currency with at most 2 decimal places"),
    ({"category_rates": ["wine"]}, "category_rates must be an object of category: rate"),
    ({"category_rates": {"wine": "-2"}}, "category_rates['wine'] must be 0 or more"),
    ({"category_rates": {"wine": "two"}}, "category_rates['wine'] must be a decimal number"),
    ({"category_rates": {"": "2"}}, "category_rates keys must be category names"),
    ({"category_rates": {" wine": "2"}}, "category_rates key ' wine' has spaces around it"),
    ({"sku_rates": "GIFT=0"}, "sku_rates must be an object of sku: rate"),
    ({"sku_rates": {"GIFT": None}}, "sku_rates['GIFT'] must be a decimal number"),
    ({"sku_rates": {"GIFT": "Infinity"}}, "sku_rates['GIFT'] must be 0 or more"),
    ({"excluded_categories": "tax"}, "excluded_categories must be a list of category names"),
    ({"excluded_categories": ["tax", 1]}, "excluded_categories must be a list of category names"),
    ({"category_rates": {"tax": "1"}}, "category 'tax' cannot be in both category_rates and excluded_categories"),
    ({"category_rates": {"tax": "1", "tip": "1"}, "excluded_categories": ["tip", "tax"]},
     "categories 'tax', 'tip' cannot be in both category_rates and excluded_categories"),
])
def test_invalid_parameters_are_refused_naming_the_parameter(formula, params, message):
    with pytest.raises(ValueError) as raised:
        formula.validate_params(params)
    assert message in str(raised.value)


def test_parameters_must_be_a_mapping(formula):
    with pytest.raises(ValueError, match="parameters must be an object"):
        formula.validate_params("default_rate=2")


RATES = st.decimals(min_value=0, max_value=Decimal("50"), places=3).map(str)
CATEGORIES = ["wine", "food", "spa", "retail", "tax", "service_charge", ""]
SKUS = ["A", "B", "C", "D"]
LINES = st.tuples(st.sampled_from(SKUS), st.sampled_from(CATEGORIES),
                  st.integers(min_value=0, max_value=10**9))
PARAMS = st.fixed_dictionaries({}, optional={
    "default_rate": RATES,
    "unit": st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1000"), places=2).map(str),
    "category_rates": st.dictionaries(st.sampled_from(["wine", "food", "spa", "retail"]), RATES),
    "sku_rates": st.dictionaries(st.sampled_from(SKUS), RATES),
})


@given(lines=st.lists(LINES, max_size=10), extra_cents=st.integers(min_value=0, max_value=10**9), params=PARAMS)
def test_steps_add_up_to_the_points_which_are_never_negative(lines, extra_cents, params):
    formula = CategoryRateFormula()
    cleaned = formula.validate_params(params)
    result = formula.compute(bill(sum(c for _, _, c in lines) + extra_cents,
                                  *[(sku, category, "1", cents) for sku, category, cents in lines]), cleaned)
    assert result.points >= 0
    assert all(step["points"] >= 0 for step in result.steps)
    assert sum(step["points"] for step in result.steps) == result.points
    assert result.points == _rounded_once(lines, extra_cents, cleaned)


def _rounded_once(lines, extra_cents, params):
    """The points by the documented rule, computed independently: exact per line, the total rounded down."""
    with localcontext(prec=60):
        return _points(lines, extra_cents, params)


def _points(lines, extra_cents, params):
    total = Decimal(0)
    for sku, category, cents in lines:
        if category in params["excluded_categories"]:
            continue
        rate = params["sku_rates"].get(sku, params["category_rates"].get(category, params["default_rate"]))
        total += Decimal(cents) / 100 * Decimal(rate)
    total += Decimal(extra_cents) / 100 * Decimal(params["default_rate"])
    return int((total / Decimal(params["unit"])).to_integral_value(rounding=ROUND_FLOOR))
