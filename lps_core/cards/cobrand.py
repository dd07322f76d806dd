"""What co-branded cards cost their partners: each time a co-branded card's benefit is used, one
partner_benefit_costs row in the posting's own transaction, which the partner's statement reads.

- a discount on a settlement: `settlement:<id>:discount`, the money the card type's discount rate
  took off the bill beyond what the member's tier alone would have taken (the partner pays for its
  card's benefit, not for the tier's);
- extra points on a bill: `bill:<outlet id>:<bill no>:points`, the points the card multiplier's
  step of the breakdown added, less what a later cap or expiry took away from the bill (a cap takes
  from the card's extra points first), so a partner never pays for points the member did not get;
- a refund writes a negative row `<key>:refund:<refund id>`: the refund's share of the cost, on
  running totals (cost x refunded so far / bill, less what earlier refunds gave back), so partial
  refunds add up to exactly the whole cost and never drift by rounding.

A card whose type has no partner costs nothing here and sends no statement: the earn request
reads the type's partner with the card (lps_core.cards.services.CARD_VIEW), the settlement with
the card row it already holds."""
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, insert, literal, select

from lps_core.cards.products import discount_rate
from lps_core.earning.models import Bill, BillRefund
from lps_core.partners.models import PartnerBenefitCost

DISCOUNT, POINTS = "discount", "points"
CENT = Decimal("0.01")
# Breakdown steps after the card multiplier that take points off the bill.
TAKING_STEPS = ("cap", "expired")


def discount_key(settlement_id) -> str:
    return f"settlement:{settlement_id}:discount"


def points_key(outlet_id, bill_no) -> str:
    return f"bill:{outlet_id}:{bill_no}:points"


def refund_key(key, refund_id) -> str:
    return f"{key}:refund:{refund_id}"


def funded_discount_cents(card_type, tier_rate, outlet_code, lines) -> int:
    """The cents of the settlement's discount that the card type's rate gave beyond the tier's rate:
    on each line where the card's rate is the one applied and above the tier's, the line's discount
    less what the tier's rate alone would have taken (rounded as the line's own discount)."""
    funded = 0
    for line in lines:
        card_rate = discount_rate(card_type, outlet_code, line["category"])
        if card_rate > tier_rate and line["rate"] == card_rate:
            tier_part = int((Decimal(line["amount_cents"]) * tier_rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))
            funded += line["discount_cents"] - tier_part
    return funded


def record_settlement_discount(db, settlement_id, card, card_type, tier, outlet, lines, occurred_at) -> None:
    """The partner's cost of a co-branded card's discount on a settlement; nothing for another card."""
    if card_type.partner_property_id is None:
        return
    tier_rate = Decimal(tier.discount_rate or 0) if tier is not None else Decimal(0)
    cents = funded_discount_cents(card_type, tier_rate, outlet.code, lines)
    if cents > 0:
        _insert(db, discount_key(settlement_id), card_type.partner_property_id, card.id, card.member_id, outlet.id,
                DISCOUNT, occurred_at, amount=_money(cents))


def record_settlement_refund(db, settlement, refund_id, refunded_cents, amount_cents, occurred_at) -> None:
    """The negative row of a settlement refund's share of its co-branded discount, if it had one: a
    settlement without a discount sends no statement."""
    if settlement.discount_cents == 0:
        return
    cost = db.execute(select(PartnerBenefitCost).where(
        PartnerBenefitCost.key == discount_key(settlement.id))).scalar_one_or_none()
    if cost is None:
        return
    cost_cents = int(cost.amount * 100)
    back = _share(cost_cents, settlement.charged_cents, refunded_cents, amount_cents)
    if back > 0:
        _insert(db, refund_key(cost.key, refund_id), cost.property_id, cost.card_id, cost.member_id, cost.outlet_id,
                DISCOUNT, occurred_at, amount=-_money(back))


def extra_points_of_card(breakdown, card_type_code) -> int:
    """The points the card multiplier's step added to a bill, less what later steps (a cap, an
    expiry) took from the bill, never below 0."""
    extra, seen = 0, False
    for step in breakdown:
        if step.get("step") == "card_type" and step.get("rule") == card_type_code:
            extra, seen = int(step.get("points", 0)), True
        elif seen and step.get("step") in TAKING_STEPS:
            extra += min(int(step.get("points", 0)), 0)
    return max(extra, 0)


def record_bill_points(db, posted) -> None:
    """The partner's cost of the extra points a co-branded card's multiplier gave a posted bill
    (a lps_on_bill_posted event); nothing, and no statement, for another card."""
    if posted.partner_id is None or posted.card_id is None:
        return
    points = extra_points_of_card(posted.breakdown, posted.bill.card_type_code)
    if points > 0:
        _insert(db, points_key(posted.outlet_id, posted.bill.bill_no), posted.partner_id, posted.card_id,
                posted.member_id, posted.outlet_id, POINTS, posted.bill.occurred_at, points=points,
                entry_id=posted.entry_id)


def record_bill_refund(db, refunded, occurred_at) -> None:
    """The negative row of a bill refund's share of the extra points a co-branded card gave the bill
    (a lps_on_bill_refunded event): one statement finds the bill's cost row, if any, with the bill's
    amount and what has been refunded of it, this refund included."""
    refunded_so_far = (select(func.coalesce(func.sum(BillRefund.amount_cents), 0))
                       .where(BillRefund.bill_id == Bill.id).scalar_subquery())
    row = db.execute(
        select(PartnerBenefitCost, Bill.amount_cents, refunded_so_far.label("refunded"))
        .join(Bill, PartnerBenefitCost.key == literal(f"bill:{refunded.outlet_id}:") + Bill.bill_no + literal(":points"))
        .where(Bill.id == refunded.bill_id)
    ).one_or_none()
    if row is None:
        return
    cost, bill_cents, refunded_cents = row[0], row.amount_cents, int(row.refunded)
    back = _share(cost.points, bill_cents, refunded_cents - refunded.amount_cents, refunded.amount_cents)
    if back > 0:
        _insert(db, refund_key(cost.key, refunded.refund_id), cost.property_id, cost.card_id, cost.member_id,
                cost.outlet_id, POINTS, occurred_at, points=-back, entry_id=cost.entry_id)


def _share(cost, whole, refunded_before, amount) -> int:
    """This refund's share of `cost`, on running totals over `whole`."""
    if whole <= 0:
        return 0
    return cost * (refunded_before + amount) // whole - cost * refunded_before // whole


def _money(cents) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


def _insert(db, key, property_id, card_id, member_id, outlet_id, kind, occurred_at, *, amount=Decimal("0.00"),
            points=0, entry_id=None):
    db.execute(insert(PartnerBenefitCost).values(
        key=key, property_id=property_id, card_id=card_id, member_id=member_id, outlet_id=outlet_id, kind=kind,
        amount=amount, points=points, entry_id=entry_id, occurred_at=occurred_at))
