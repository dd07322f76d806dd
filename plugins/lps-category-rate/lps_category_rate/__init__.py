"""The category-rate earning formula: points per currency unit that differ by product category and SKU.

For outlets whose products earn differently: a restaurant that rewards wine more than food, a spa
whose signature treatment earns triple, a shop that gives nothing on gift cards. Each item line
earns at one rate, chosen in this order:
1. a line of an excluded category earns nothing, whatever its SKU;
2. else the rate of its SKU, if `sku_rates` has one (a SKU rate wins over its category's);
3. else the rate of its category, if `category_rates` has one;
4. else `default_rate`.
The part of the bill amount that no item line covers (or the whole amount of a bill sent without
items) earns at `default_rate`.

Rounding: each line's points are computed exactly with Decimal (amount x rate / unit, no rounding),
and the bill's total is rounded down once. So a bill of many small lines loses less than one point
in all, never one per line. The breakdown has one 'formula' step per rate group (a SKU, a category,
or the default rate) with that group's points rounded down; the fractions those steps leave add up
to a few points that the total still holds, and a final 'formula' step "rounding" carries them, so
the steps always add up exactly to the points. Excluded lines, when present, get a step of 0 points
that says how much was left out.

Outlet parameters (all optional):
- default_rate: points for each `unit` of spend on lines without a specific rate and on the amount
  not itemised, a decimal string of 0 or more (default "1"; "0" makes only the listed categories and
  SKUs earn);
- unit: the spend that earns a rate, a decimal string of currency greater than 0 with at most 2
  decimal places (default "1");
- category_rates: {category: rate}, rates as decimal strings of 0 or more (default {});
- sku_rates: {sku: rate}, rates as decimal strings of 0 or more (default {});
- excluded_categories: a list of the item categories that earn nothing (default ["tax",
  "service_charge"]); a category cannot be both excluded and in category_rates.

Example outlet configuration for a restaurant::

    {
      "formula": "category_rate",
      "params": {
        "default_rate": "1",
        "unit": "1",
        "category_rates": {"wine": "2", "tobacco": "0"},
        "sku_rates": {"CHEF-TASTING": "3"},
        "excluded_categories": ["tax", "service_charge"]
      }
    }

With it, a bill of 470.00 with wine (300.00), food (100.00), service charge (30.00) and 40.00 not
itemised earns 740 points: "2 points per 1.00 on 300.00 of category wine" (600) and "1 point per 1.00
on 140.00 at the default rate" (140); the 30.00 of service_charge earns nothing.
"""
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal, InvalidOperation, localcontext

from zope.interface import implementer

from lps_core.contract import EarningResult, IEarningFormula, format_cents, hookimpl

DEFAULTS = {
    "default_rate": "1",
    "unit": "1",
    "category_rates": {},
    "sku_rates": {},
    "excluded_categories": ["tax", "service_charge"],
}
PRECISION = 100  # digits: sums of cents x rate stay exact, whatever the parameters
CENT = Decimal("0.01")


def _decimal(value, name, *, allow_zero):
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a decimal number, not {value!r}")
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValueError(f"{name} must be a decimal number, not {value!r}") from None
    if not number.is_finite() or number < 0 or (number == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'0 or more' if allow_zero else 'greater than 0'}, not {value!r}")
    return number


def _rate_map(params, name, what):
    value = params[name]
    if not isinstance(value, dict):
        raise ValueError(f"{name} must be an object of {what}: rate, not {value!r}")
    cleaned = {}
    for key, rate in value.items():
        if not isinstance(key, str) or not key.strip():
            raise ValueError(f"{name} keys must be {what} names (non-empty strings), not {key!r}")
        if key != key.strip():
            raise ValueError(f"{name} key {key!r} has spaces around it; bill lines carry trimmed {what} names")
        cleaned[key] = str(_decimal(rate, f"{name}[{key!r}]", allow_zero=True))
    return cleaned


def _plain(number: Decimal) -> str:
    """A decimal without exponent or trailing zeros: 2, 1.5, 100."""
    return format(number.normalize(), "f")


@dataclass
class RateGroup:
    """The lines that earn at one rate; `weighted` (cents x rate) / (unit x 100) is their exact points."""

    label: str
    rate: Decimal
    cents: int = 0
    not_itemised_cents: int = 0

    @property
    def weighted(self) -> Decimal:
        return (self.cents + self.not_itemised_cents) * self.rate


@implementer(IEarningFormula)
class CategoryRateFormula:
    name = "category_rate"
    description = "Points per currency unit by product category and SKU, with excluded categories"

    def validate_params(self, params):
        if not isinstance(params, dict):
            raise ValueError("parameters must be an object of name: value")
        unknown = sorted(set(params) - set(DEFAULTS))
        if unknown:
            raise ValueError(f"unknown parameter(s): {', '.join(unknown)} "
                             f"(known: {', '.join(sorted(DEFAULTS))})")
        merged = {**DEFAULTS, **params}
        default_rate = _decimal(merged["default_rate"], "default_rate", allow_zero=True)
        unit = _decimal(merged["unit"], "unit", allow_zero=False)
        if unit.as_tuple().exponent < -2:
            raise ValueError(f"unit must be an amount of currency with at most 2 decimal places, "
                             f"not {merged['unit']!r}")
        category_rates = _rate_map(merged, "category_rates", "category")
        sku_rates = _rate_map(merged, "sku_rates", "sku")
        excluded = merged["excluded_categories"]
        if not isinstance(excluded, list) or not all(isinstance(c, str) and c.strip() for c in excluded):
            raise ValueError(f"excluded_categories must be a list of category names (non-empty strings), "
                             f"not {excluded!r}")
        excluded = [c.strip() for c in excluded]
        both = sorted(set(category_rates) & set(excluded))
        if both:
            raise ValueError(f"categor{'y' if len(both) == 1 else 'ies'} {', '.join(map(repr, both))} "
                             "cannot be in both category_rates and excluded_categories")
        return {
            "default_rate": str(default_rate),
            "unit": str(unit),
            "category_rates": category_rates,
            "sku_rates": sku_rates,
            "excluded_categories": excluded,
        }

    def compute(self, bill, params):
        merged = {**DEFAULTS, **params}
        unit = Decimal(str(merged["unit"]))
        category_rates = {k: Decimal(str(v)) for k, v in merged["category_rates"].items()}
        sku_rates = {k: Decimal(str(v)) for k, v in merged["sku_rates"].items()}
        excluded_categories = set(merged["excluded_categories"])
        default = RateGroup("at the default rate", Decimal(str(merged["default_rate"])))
        groups, excluded_lines = {}, []
        for line in bill.items:
            if line.category in excluded_categories:
                excluded_lines.append(line)
                continue
            if line.sku in sku_rates:
                key, group = ("sku", line.sku), RateGroup(f"of SKU {line.sku}", sku_rates[line.sku])
            elif line.category in category_rates:
                key, group = ("category", line.category), RateGroup(f"of category {line.category}",
                                                                    category_rates[line.category])
            else:
                key, group = ("default",), default
            groups.setdefault(key, group).cents += line.amount_cents
        default.not_itemised_cents = max(bill.amount_cents - sum(line.amount_cents for line in bill.items), 0)
        groups.pop(("default",), None)
        ordered = list(groups.values())  # in the order the bill first shows them; the default rate last
        if default.cents or default.not_itemised_cents or not (ordered or excluded_lines):
            ordered.append(default)

        divisor = unit * 100
        with localcontext(prec=PRECISION):
            floored = [int(group.weighted // divisor) for group in ordered]
            exact_total = sum((group.weighted for group in ordered), Decimal(0))
            points = int(exact_total // divisor)
        steps = [self._group_step(group, group_points, unit) for group, group_points in zip(ordered, floored)]
        if excluded_lines:
            left_out = sum(line.amount_cents for line in excluded_lines)
            names = ", ".join(dict.fromkeys(line.category for line in excluded_lines))
            steps.append(self._step(f"{format_cents(left_out)} of {names} earns no points (excluded categories)", 0))
        remainder = points - sum(floored)
        if remainder:
            steps.append(self._step(
                f"rounding: the fractions of the steps above add up to {remainder} more "
                f"point{'s' if remainder != 1 else ''} (the bill's exact "
                f"{_exact(exact_total, divisor)} points are rounded down once)", remainder))
        return EarningResult(points, steps)

    def _group_step(self, group, group_points, unit):
        noun = "point" if group.rate == 1 else "points"
        description = (f"{_plain(group.rate)} {noun} per {format_cents(int(unit * 100))} on "
                       f"{format_cents(group.cents + group.not_itemised_cents)} {group.label}")
        if group.not_itemised_cents:
            description += f" ({format_cents(group.not_itemised_cents)} of it not itemised)"
        with localcontext(prec=PRECISION):
            fractional = group.weighted % (unit * 100) != 0
        if fractional:
            description += f"; {_exact(group.weighted, unit * 100)} before rounding down"
        return self._step(description, group_points)

    def _step(self, description, points):
        return {"step": "formula", "rule": self.name, "description": description, "points": points}


def _exact(weighted: Decimal, divisor: Decimal) -> str:
    """Exact points shown to 2 decimal places, rounded down like the points themselves."""
    with localcontext(prec=PRECISION):
        return str((weighted / divisor).quantize(CENT, rounding=ROUND_FLOOR))


@hookimpl
def lps_earning_formulas():
    return [CategoryRateFormula()]
