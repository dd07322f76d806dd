"""The base_rate earning formula: N points per unit of eligible spend, excluded categories, rounded down."""
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from zope.interface.verify import verifyObject

from lps_base_rate import DEFAULTS, BaseRateFormula
from lps_core.contract import BillInput, BillLine, IEarningFormula

pytest_plugins = ["lps_core.testing"]

AT = datetime(2026, 5, 1, 19, 30, tzinfo=timezone.utc)


def bill(amount_cents, *lines):
    return BillInput("REST", "R-1001", amount_cents, AT,
                     tuple(BillLine(sku, category, Decimal(qty), cents) for sku, category, qty, cents in lines))


@pytest.fixture
def formula():
    return BaseRateFormula()


def compute(formula, a_bill, **params):
    return formula.compute(a_bill, formula.validate_params(params))


def test_the_formula_is_registered_from_its_entry_point(plugins):
    found = plugins.formula("base_rate")
    assert isinstance(found, BaseRateFormula)
    assert verifyObject(IEarningFormula, found)
    assert plugins.component("formula", "base_rate").distribution == "lps-base-rate"


def test_one_point_per_unit_by_default_with_tax_and_service_charge_left_out(formula):
    result = compute(formula, bill(11300, ("STEAK", "food", "1", 10000), ("VAT", "tax", "1", 600),
                                   ("SC", "service_charge", "1", 700)))
    assert result.points == 100
    assert result.steps == [{
        "step": "formula", "rule": "base_rate", "points": 100,
        "description": "1 point(s) per 1 on 100.00 eligible (13.00 of excluded categories left out), rounded down",
    }]


def test_points_per_unit_and_unit_set_the_rate_and_points_are_rounded_down(formula):
    result = compute(formula, bill(12999), points_per_unit="5", unit="10")
    assert result.points == 64  # 129.99 / 10 x 5 = 64.995
    assert result.steps[0]["description"] == "5 point(s) per 10 on 129.99 eligible, rounded down"


def test_the_amount_no_item_line_covers_earns_too(formula):
    assert compute(formula, bill(5000, ("TEA", "drinks", "1", 1000))).points == 50


def test_excluded_lines_worth_more_than_the_bill_earn_nothing_rather_than_a_negative(formula):
    assert compute(formula, bill(1000, ("VAT", "tax", "1", 1500))).points == 0


def test_the_outlet_chooses_its_excluded_categories(formula):
    a_bill = bill(3000, ("WINE", "wine", "1", 2000), ("VAT", "tax", "1", 1000))
    assert compute(formula, a_bill, excluded_categories=["wine"]).points == 10
    assert compute(formula, a_bill, excluded_categories=[]).points == 30


def test_validate_params_fills_the_defaults(formula):
    assert formula.validate_params({}) == {"points_per_unit": "1", "unit": "1",
                                           "excluded_categories": ["tax", "service_charge"]}
    assert formula.validate_params({"points_per_unit": 2, "unit": "0.50"})["points_per_unit"] == "2"


def test_compute_applies_defaults_to_parameters_saved_before_a_new_one_existed(formula):
    assert formula.compute(bill(1000), {"points_per_unit": "3"}).points == 30
    assert set(DEFAULTS) == {"points_per_unit", "unit", "excluded_categories"}


@pytest.mark.parametrize(("params", "message"), [
    ({"bonus": "1"}, "unknown parameter(s): bonus"),
    ({"points_per_unit": "0"}, "points_per_unit must be greater than 0"),
    ({"points_per_unit": "-1"}, "points_per_unit must be greater than 0"),
    ({"unit": "ten"}, "unit must be a decimal number"),
    ({"unit": "Infinity"}, "unit must be greater than 0"),
    ({"excluded_categories": "tax"}, "excluded_categories must be a list of category names"),
    ({"excluded_categories": ["tax", 3]}, "excluded_categories must be a list of category names"),
])
def test_invalid_parameters_are_refused_naming_the_parameter(formula, params, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        formula.validate_params(params)


def test_a_bill_earns_through_the_api_at_the_outlets_rate(testapp, seed):
    """The standard programme's SPA earns 2 points per 1.00 with base_rate; its breakdown names the rule."""
    headers = {"Authorization": f"Bearer {seed.api_key('SPA')}"}
    body = {"card_no": seed.member_card(), "bill_no": "S-1", "amount": "45.50",
            "items": [{"sku": "MASSAGE", "category": "treatment", "qty": "1", "amount": "40.00"},
                      {"sku": "VAT", "category": "tax", "qty": "1", "amount": "5.50"}]}
    earned = testapp.post_json("/api/v1/transactions", body, headers=headers, status=201).json
    assert earned["points"] == 80
    [step] = [step for step in earned["breakdown"] if step["step"] == "formula"]
    assert step["rule"] == "base_rate" and step["points"] == 80 and "on 40.00 eligible" in step["description"]
