"""Coupons won as the prize of a promotion, and the promotion kind `coupon` that gives only them.

When a member's bill is posted (the lps_on_bill_posted listener of lps_core.builtin.coupons), each
promotion with a prize that applies to the bill gives its `count` coupons:

- a promotion that gives points applies when it gave the bill points: its line is in the bill's
  breakdown (after its caps and the stacking, so a best_of promotion that lost gives no prize, and
  one whose cap per member is used up gives none either);
- a promotion of kind `coupon` gives no points; it applies when the bill passes its filters
  (window, outlets, tiers, card types, weekdays, products) and is at least its `min_amount`.

The coupons are issued in the posting's transaction, keyed (type, member, 'promotion',
'bill:<bill id>/promotion:<promotion id>/<n>'), so they are issued once per bill. What the prize
needs (its coupon type's uses and validity) was read with the cached promotions: a bill that wins
a prize costs one INSERT, a bill that wins none costs no statement. A prize whose type is switched
off or whose validity is over is not given; the bill posts all the same.

A refund that returns the whole bill voids its prize coupons: one not used is never taken; one
used keeps what it paid (the sale it paid is another bill, not touched), and, being void, gets no
use back if the bill it paid is refunded later. A partial refund leaves the prize.
"""
from decimal import Decimal

from pydantic import ValidationError
from sqlalchemy import update
from zope.interface import implementer

from lps_core.contract import IPromotionKind, MemberContext
from lps_core.coupons import codes
from lps_core.coupons.models import ISSUED, VOID, Coupon
from lps_core.coupons.services import insert_new, validity
from lps_core.earning.pipeline import promotion_applies
from lps_core.labels import pgettext
from lps_core.money import format_cents
from lps_core.timeutil import utcnow
from lps_core.validation import Body, MoneyOrZero, failure

SOURCE = "promotion"


def source_ref(bill_id, promotion_id, number) -> str:
    return f"bill:{bill_id}/promotion:{promotion_id}/{number}"


class CouponPrizeParams(Body):
    min_amount: MoneyOrZero | None = None


@implementer(IPromotionKind)
class CouponPrize:
    """A promotion that gives its prize of coupons and no points. `gives_points` tells the promotion
    schema that it needs a prize."""

    name = "coupon"
    label = pgettext("promotion kind", "coupons only")
    on_bill = True
    gives_points = False

    def validate_params(self, params):
        try:
            cleaned = CouponPrizeParams.model_validate(params)
        except ValidationError as exc:
            fields = failure(exc, "").fields
            raise ValueError("; ".join(f"{name} {message}" for name, message in fields.items())) from None
        return {"min_amount": format_cents(cleaned.min_amount)} if cleaned.min_amount is not None else {}

    def evaluate(self, promotion, context):
        return 0  # its prize is given by on_bill_posted, after the points

    def explain(self, promotion, bonus):
        return f"{promotion.name}: coupons"

    def qualifies(self, promotion, bill) -> bool:
        minimum = promotion.params.get("min_amount")
        return minimum is None or bill.amount_cents >= int(Decimal(minimum) * 100)


def prizes_won(posted, promotions, kinds) -> list:
    """The promotions among `promotions` (with a prize) whose prize the posted bill wins."""
    gave_points = {line.get("rule") for line in posted.breakdown if line.get("step") == "promotion"}
    member = MemberContext(posted.member_id, posted.bill.tier_code, Decimal(1), posted.bill.card_type_code)
    tz = posted.programme.timezone
    won = []
    for promotion in promotions:
        kind = kinds.get(promotion.kind)
        if promotion.code in gave_points:
            won.append(promotion)
        elif isinstance(kind, CouponPrize) and promotion_applies(promotion, posted.bill, member, tz) \
                and kind.qualifies(promotion, posted.bill):
            won.append(promotion)
    return won


def on_bill_posted(db, posted, *, now=None) -> list[dict]:
    """Issue the prizes the posted bill wins (nothing, and no statement, when no promotion running
    at the outlet has a prize). Returns the rows issued."""
    if posted.member_id is None or posted.programme is None:
        return []
    running = posted.programme.promotions.on_at(db, posted.plugins, posted.outlet_id)
    with_prize = [promotion for promotion in running if promotion.prize is not None]
    if not with_prize:
        return []
    now = now or utcnow()
    tz = posted.programme.timezone
    rows = []
    for promotion in prizes_won(posted, with_prize, posted.plugins.promotion_kinds):
        prize = promotion.prize
        valid_from, valid_to = validity(prize, now, tz)
        if not prize.active or valid_to <= now:
            continue
        rows += [{"code": codes.new_code(), "coupon_type_id": prize.coupon_type_id, "member_id": posted.member_id,
                  "source": SOURCE, "source_ref": source_ref(posted.bill_id, promotion.id, number),
                  "issued_at": now, "valid_from": valid_from, "valid_to": valid_to, "uses_left": prize.uses,
                  "status": ISSUED} for number in range(1, prize.count + 1)]
    if rows:
        insert_new(db, rows)
    return rows


def on_bill_refunded(db, refunded) -> None:
    """Void the prize coupons of a bill refunded in full (see the module's docstring)."""
    if not refunded.whole or refunded.member_id is None:
        return
    db.execute(update(Coupon).where(
        Coupon.member_id == refunded.member_id, Coupon.status != VOID, Coupon.source == SOURCE,
        Coupon.source_ref.like(f"bill:{refunded.bill_id}/%")).values(status=VOID))
