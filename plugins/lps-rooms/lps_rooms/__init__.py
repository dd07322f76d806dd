"""The rooms earning formula: points per unit of room revenue on a hotel room bill, and nights and stays.

A room bill (the folio the front desk closes at check-out) earns on its room revenue only:
- lines whose category is one of `room_categories` are room revenue; their `qty` is the number of
  nights, so a line "DLX, room, qty 3, 900.00" is three nights. The nights of the bill are the sum
  of the qty of its room lines, rounded down to whole nights (a 0.5 day-use counts no night);
- lines of `excluded_categories` (tax, service charge) earn nothing;
- every other line is an incidental charged to the room (restaurant, bar, spa, laundry). It earns
  nothing here: the hotel posts it separately, as its own bill at its own outlet, where that
  outlet's formula earns on it. The breakdown says so whenever such lines are on the bill;
- an itemised bill earns on its room lines only: any part of the amount that no line covers is not
  known to be room revenue and earns nothing (the breakdown shows it);
- a bill with no item lines is all room revenue, with `nights_when_no_items` nights (default 0).

Points are rounded down once, on the room revenue. The bill counts towards tier status as
`qualifying` {"nights": N, "stays": 1} when it has at least one whole night, else {"nights": 0,
"stays": 0}.

Outlet parameters (all optional):
- points_per_unit: points for each `unit` of room revenue, a decimal string greater than 0 (default "1");
- unit: the room revenue that earns `points_per_unit`, a decimal string of currency greater than 0
  with at most 2 decimal places (default "1");
- room_categories: a non-empty list of the item categories that are room revenue (default ["room"]);
- excluded_categories: a list of the item categories that earn nothing and are not incidentals
  (default ["tax", "service_charge"]); no category may be both a room and an excluded category;
- nights_when_no_items: the nights counted for a bill sent without item lines, a whole number,
  0 or more (default 0).

Example outlet configuration (5 points per 10.00 of room revenue; suites count as rooms)::

    {
      "formula": "rooms",
      "params": {
        "points_per_unit": "5",
        "unit": "10",
        "room_categories": ["room", "suite"],
        "excluded_categories": ["tax", "service_charge", "city_tax"],
        "nights_when_no_items": 0
      }
    }

With it, a folio of 3 nights in a suite (1500.00), city tax (45.00) and a dinner charged to the room
(200.00) earns 750 points: "5 points per 10.00 on 1500.00 room revenue (3 nights)", 3 nights, 1 stay.
"""
from decimal import ROUND_FLOOR, Decimal, InvalidOperation, localcontext

from zope.interface import implementer

from lps_core.contract import EarningResult, IEarningFormula, format_cents, hookimpl

DEFAULTS = {
    "points_per_unit": "1",
    "unit": "1",
    "room_categories": ["room"],
    "excluded_categories": ["tax", "service_charge"],
    "nights_when_no_items": 0,
}
PRECISION = 100  # digits: products of cents and rates stay exact, whatever the parameters


def _positive_decimal(params, name):
    value = params[name]
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a decimal number, not {value!r}")
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValueError(f"{name} must be a decimal number, not {value!r}") from None
    if not number.is_finite() or number <= 0:
        raise ValueError(f"{name} must be greater than 0, not {value!r}")
    return number


def _category_list(params, name):
    value = params[name]
    if not isinstance(value, list) or not all(isinstance(c, str) and c.strip() for c in value):
        raise ValueError(f"{name} must be a list of category names (non-empty strings), not {value!r}")
    return [c.strip() for c in value]


def _plain(number: Decimal) -> str:
    """A decimal without exponent or trailing zeros: 2, 1.5, 100."""
    return format(number.normalize(), "f")


def _points_phrase(points_per_unit: Decimal, unit: Decimal) -> str:
    noun = "point" if points_per_unit == 1 else "points"
    return f"{_plain(points_per_unit)} {noun} per {format_cents(int(unit * 100))}"


def _nights_phrase(nights: int) -> str:
    return f"{nights} night" if nights == 1 else f"{nights} nights"


@implementer(IEarningFormula)
class RoomsFormula:
    name = "rooms"
    description = "Points per unit of room revenue on hotel room bills; counts nights and stays"

    def validate_params(self, params):
        if not isinstance(params, dict):
            raise ValueError("parameters must be an object of name: value")
        unknown = sorted(set(params) - set(DEFAULTS))
        if unknown:
            raise ValueError(f"unknown parameter(s): {', '.join(unknown)} "
                             f"(known: {', '.join(sorted(DEFAULTS))})")
        merged = {**DEFAULTS, **params}
        points_per_unit = _positive_decimal(merged, "points_per_unit")
        unit = _positive_decimal(merged, "unit")
        if unit.as_tuple().exponent < -2:
            raise ValueError(f"unit must be an amount of currency with at most 2 decimal places, "
                             f"not {merged['unit']!r}")
        room_categories = _category_list(merged, "room_categories")
        if not room_categories:
            raise ValueError("room_categories must name at least one category")
        excluded_categories = _category_list(merged, "excluded_categories")
        both = sorted(set(room_categories) & set(excluded_categories))
        if both:
            raise ValueError(f"categor{'y' if len(both) == 1 else 'ies'} {', '.join(map(repr, both))} "
                             "cannot be in both room_categories and excluded_categories")
        nights = merged["nights_when_no_items"]
        if isinstance(nights, bool) or not isinstance(nights, int) or nights < 0:
            raise ValueError(f"nights_when_no_items must be a whole number of nights, 0 or more, not {nights!r}")
        return {
            "points_per_unit": str(points_per_unit),
            "unit": str(unit),
            "room_categories": room_categories,
            "excluded_categories": excluded_categories,
            "nights_when_no_items": nights,
        }

    def compute(self, bill, params):
        merged = {**DEFAULTS, **params}
        points_per_unit, unit = Decimal(str(merged["points_per_unit"])), Decimal(str(merged["unit"]))
        room_categories, excluded_categories = set(merged["room_categories"]), set(merged["excluded_categories"])
        notes = []
        if bill.items:
            room_lines = [line for line in bill.items if line.category in room_categories]
            revenue = sum(line.amount_cents for line in room_lines)
            nights = int(sum((line.qty for line in room_lines), Decimal(0)).to_integral_value(rounding=ROUND_FLOOR))
            excluded = [line for line in bill.items if line.category in excluded_categories]
            incidentals = [line for line in bill.items
                           if line.category not in room_categories and line.category not in excluded_categories]
            if excluded:
                notes.append(f"{format_cents(sum(line.amount_cents for line in excluded))} of "
                             f"{_category_names(excluded)} left out")
            if incidentals:
                notes.append(f"{format_cents(sum(line.amount_cents for line in incidentals))} of incidentals "
                             f"({_category_names(incidentals)}) earn nothing here: they earn at their own outlet, "
                             "on the bill the hotel posts there")
            not_itemised = bill.amount_cents - sum(line.amount_cents for line in bill.items)
            if not_itemised > 0:
                notes.append(f"{format_cents(not_itemised)} not itemised earns nothing")
        else:
            revenue = max(bill.amount_cents, 0)
            nights = int(merged["nights_when_no_items"])
            notes.append("no item lines: the whole bill is room revenue")
        with localcontext(prec=PRECISION):
            points = int((Decimal(revenue) * points_per_unit) // (unit * 100))
        description = (f"{_points_phrase(points_per_unit, unit)} on {format_cents(revenue)} room revenue "
                       f"({_nights_phrase(nights)}), rounded down")
        if notes:
            description += "; " + "; ".join(notes)
        step = {"step": "formula", "rule": self.name, "description": description, "points": points}
        return EarningResult(points, [step], {"nights": nights, "stays": 1 if nights > 0 else 0})


def _category_names(lines) -> str:
    """The distinct categories of `lines`, in bill order, for a description."""
    return ", ".join(dict.fromkeys(line.category or "uncategorised" for line in lines))


@hookimpl
def lps_earning_formulas():
    return [RoomsFormula()]
