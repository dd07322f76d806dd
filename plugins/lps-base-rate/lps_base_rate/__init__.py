"""The base-rate earning formula: N points per currency unit spent, per outlet.

Outlet parameters (all optional):
- points_per_unit: points for each `unit` of eligible spend, a decimal string (default "1");
- unit: the spend that earns `points_per_unit`, a decimal string of currency (default "1");
- excluded_categories: item categories that earn nothing, such as tax or service charge
  (default ["tax", "service_charge"]).

Eligible spend is the bill amount less the items in excluded categories; points are rounded down.
"""
from decimal import ROUND_FLOOR, Decimal, InvalidOperation

from zope.interface import implementer

from lps_core.contract import EarningResult, IEarningFormula, format_cents, hookimpl

DEFAULTS = {"points_per_unit": "1", "unit": "1", "excluded_categories": ["tax", "service_charge"]}


def _positive_decimal(params, name):
    try:
        value = Decimal(str(params[name]))
    except (InvalidOperation, ValueError):
        raise ValueError(f"{name} must be a decimal number, not {params[name]!r}") from None
    if not value.is_finite() or value <= 0:
        raise ValueError(f"{name} must be greater than 0")
    return value


@implementer(IEarningFormula)
class BaseRateFormula:
    name = "base_rate"
    description = "N points per currency unit, with excluded item categories"

    def validate_params(self, params):
        unknown = sorted(set(params) - set(DEFAULTS))
        if unknown:
            raise ValueError(f"unknown parameter(s): {', '.join(unknown)}")
        merged = {**DEFAULTS, **params}
        points_per_unit = _positive_decimal(merged, "points_per_unit")
        unit = _positive_decimal(merged, "unit")
        excluded = merged["excluded_categories"]
        if not isinstance(excluded, list) or not all(isinstance(c, str) for c in excluded):
            raise ValueError("excluded_categories must be a list of category names")
        return {"points_per_unit": str(points_per_unit), "unit": str(unit), "excluded_categories": excluded}

    def compute(self, bill, params):
        merged = {**DEFAULTS, **params}
        excluded_categories = set(merged["excluded_categories"])
        excluded = sum(line.amount_cents for line in bill.items if line.category in excluded_categories)
        eligible = max(bill.amount_cents - excluded, 0)
        rate = Decimal(merged["points_per_unit"]) / Decimal(merged["unit"])
        points = int((Decimal(eligible) / 100 * rate).to_integral_value(rounding=ROUND_FLOOR))
        note = f" ({format_cents(excluded)} of excluded categories left out)" if excluded else ""
        return EarningResult(points, [{
            "step": "formula",
            "rule": self.name,
            "description": f"{merged['points_per_unit']} point(s) per {merged['unit']} on "
                           f"{format_cents(eligible)} eligible{note}, rounded down",
            "points": points,
        }])


@hookimpl
def lps_earning_formulas():
    return [BaseRateFormula()]
