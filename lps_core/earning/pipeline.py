"""From a bill to its points, step by step: formula -> spend band -> tier multiplier -> card-type
multiplier -> promotions -> cap (the rule's, or the outlet's ceiling). Each step records the points it
added, so the breakdown always adds up to the points, and a member who asks "why 380 points?" can be
answered.

Rounding (lps.earning.rounding): `once` (the default) carries the exact value through the chain and
rounds once, at the end, by the rule's rounding mode; each line keeps its exact contribution in
`exact` (when it is not a whole number) and a `rounding` line shows what rounding took or gave.
A line's whole `points` are what it moved the rounded running total by, so they add up to the
points. `per_step` rounds after every multiplication, by the same mode.

The pipeline is pure: what it needs from the database (cumulative spend for period bands, whether
this is the member's first bill, what a promotion already gave the member) comes from `facts`, and
the caller passes only the promotions whose kind is switched on at the bill's outlet
(PromotionBook.on_at). What a promotion gives is its kind's (IPromotionKind.evaluate); the core
keeps the filters, the caps and the stacking."""
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, localcontext

from zope.interface import implementer

from lps_core.contract import BillInput, IMemberFacts, MemberContext, PromotionContext
from lps_core.contract.promotions import ROUNDING_MODES
from lps_core.earning.rules import Rule
from lps_core.money import format_cents

ROUNDING_WORDS = {"floor": "down", "half_up": "half up", "half_even": "half to even"}
PRECISION = 60  # digits: products of points and multipliers stay exact


@dataclass
class Computation:
    points: int
    breakdown: list[dict]
    qualifying: dict = field(default_factory=dict)
    awards: list = field(default_factory=list)  # (PromotionView, points) pairs, for caps and reports


@implementer(IMemberFacts)
class NoFacts:
    """Facts for a bill of no member in particular (a preview): no history."""

    def period_spend_cents(self, period, moment):
        return 0

    def is_first_bill(self, promotion):
        return True

    def bill_count(self, promotion):
        return 0

    def awarded(self, promotion, moment):
        return 0


def compute_points(plugins, rule: Rule, bill: BillInput, member: MemberContext, promotions=(), facts=None,
                   tz=timezone.utc, *, ceiling: int | None = None, rounding: str = "once") -> Computation:
    """The points of `bill` and the breakdown that explains them. `ceiling` is the outlet's most
    points per bill (lps.earning.max_points_per_bill); the lower of it and the rule's own cap applies.
    `rounding` is one of lps_core.settings.ROUNDING_STRATEGIES; the rule's `rounding` names the mode."""
    with localcontext() as context:
        context.prec = PRECISION
        return _compute(plugins, rule, bill, member, promotions, facts or NoFacts(), tz, ceiling,
                        rounding == "once")


def _compute(plugins, rule, bill, member, promotions, facts, tz, ceiling, exact) -> Computation:
    result = plugins.formula(rule.formula).compute(bill, rule.formula_params)
    breakdown = [dict(step) for step in result.steps]
    mode = ROUNDING_MODES[rule.rounding]
    total = Decimal(result.points)  # the running total: exact, or rounded at each step
    shown = int(result.points)  # the whole points of the lines so far: the running total, rounded

    def add(line, contribution) -> int:
        """Append a line for `contribution`; its whole points are what it moves the rounded total by."""
        nonlocal total, shown
        total += contribution
        rounded = int(total.to_integral_value(rounding=mode))
        line["points"] = rounded - shown
        if exact and contribution != contribution.to_integral_value():
            line["exact"] = _number(contribution)
        breakdown.append(line)
        shown = rounded
        return line["points"]

    def multiply(step, rule_name, multiplier, description):
        multiplier = Decimal(multiplier)
        if multiplier == 1 or total == 0:
            return
        product = total * multiplier
        if not exact:
            product = product.to_integral_value(rounding=mode)
        add({"step": step, "rule": rule_name, "description": f"{description} x{_number(multiplier)}"},
            product - total)

    if rule.bands:
        basis = bill.amount_cents
        note = ""
        if rule.band_basis == "period_spend":
            basis += facts.period_spend_cents(rule.band_period, bill.occurred_at)
            note = f" (spend this {rule.band_period}: {format_cents(basis)})"
        band = rule.band_for(basis)
        if band is not None:
            multiply("band", band.label(), band.multiplier, f"spend band {band.label()}{note}")
    if member.tier_code:
        multiply("tier", member.tier_code, member.tier_multiplier, f"{member.tier_code} tier multiplier")
    if member.card_type_code:
        multiply("card_type", member.card_type_code, member.card_multiplier,
                 f"{member.card_type_code} card multiplier")

    awards = []
    context = PromotionContext(bill, member, total, exact, facts, rule.rounding)
    for promotion, kind, bonus in _winning_promotions(plugins.promotion_kinds, promotions, context, tz):
        given = add({"step": "promotion", "rule": promotion.code, "description": kind.explain(promotion, bonus)},
                    Decimal(bonus))
        awards.append((promotion, given))

    cap = _cap(rule, bill, ceiling)
    if cap is not None and total > cap[0]:
        add({"step": "cap", "rule": cap[1], "description": cap[2]}, cap[0] - total)
    if exact and total != shown:
        breakdown.append({"step": "rounding", "rule": rule.rounding, "points": 0, "exact": _number(shown - total),
                          "description": f"{_number(total)} rounded {ROUNDING_WORDS[rule.rounding]} to {shown}, "
                                         "once at the end"})
    return Computation(shown, breakdown, dict(result.qualifying), awards)


def _cap(rule, bill, ceiling):
    """(points, rule name, description) of the lower of the rule's cap and the outlet's ceiling."""
    caps = []
    if rule.max_points_per_bill is not None:
        caps.append((rule.max_points_per_bill, "max_points_per_bill",
                     f"at most {rule.max_points_per_bill} points per bill"))
    if ceiling is not None:
        caps.append((ceiling, "outlet_ceiling", f"at most {ceiling} points per bill at {bill.outlet_code}"))
    return min(caps, key=lambda cap: cap[0], default=None)


def promotion_applies(promotion, bill: BillInput, member: MemberContext, tz) -> bool:
    """Window, outlet, tier, card type, weekday (in the programme's time zone) and products."""
    if not promotion.starts_at <= bill.occurred_at < promotion.ends_at:
        return False
    if promotion.outlets and bill.outlet_code not in promotion.outlets:
        return False
    if promotion.tiers and member.tier_code not in promotion.tiers:
        return False
    if promotion.card_types and member.card_type_code not in promotion.card_types:
        return False
    if promotion.weekdays and _local(bill.occurred_at, tz).isoweekday() not in promotion.weekdays:
        return False
    return not promotion.filters_products or any(promotion.line_matches(line) for line in bill.items)


def _winning_promotions(kinds, promotions, context, tz):
    """(promotion, kind, bonus) of the promotions that apply to the bill, after their caps and the
    stacking, in the order they apply. A promotion of a kind that no plugin provides is skipped."""
    candidates = []
    for promotion in promotions:
        kind = kinds.get(promotion.kind)
        if kind is None or not kind.on_bill or not promotion_applies(promotion, context.bill, context.member, tz):
            continue
        bonus = kind.evaluate(promotion, context)
        if promotion.cap_per_bill is not None:
            bonus = min(bonus, promotion.cap_per_bill)
        if promotion.cap_per_member is not None and bonus > 0:
            awarded = context.facts.awarded(promotion, context.bill.occurred_at)
            bonus = min(bonus, max(promotion.cap_per_member - awarded, 0))
        if bonus > 0:
            candidates.append((promotion, kind, bonus))
    winners = [c for c in candidates if c[0].stacking == "stack"]
    best_of = [c for c in candidates if c[0].stacking == "best_of"]
    if best_of:
        winners.append(max(best_of, key=lambda c: (c[2], c[0].priority, c[0].code)))
    groups = {}
    for candidate in candidates:
        if candidate[0].stacking == "exclusive":
            group = candidate[0].exclusive_group
            held = groups.get(group)
            if held is None or (candidate[0].priority, candidate[2]) > (held[0].priority, held[2]):
                groups[group] = candidate
    winners.extend(groups.values())
    return sorted(winners, key=lambda c: (-c[0].priority, c[0].code))


def _local(moment: datetime, tz):
    return moment.astimezone(tz)


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f")
