"""The coupon tender, the promotion kind `coupon` (a prize of coupons, no points), the listener
that issues promotions' prize coupons when a bill is posted, and the one that gives coupons back
(and voids a refunded bill's prizes) on refunds, provided through the hooks `lps_tenders`,
`lps_promotion_kinds`, `lps_on_bill_posted` and `lps_on_bill_refunded` exactly as a third party's
would be.

The `coupon` tender names the member's coupon by its code in `reference` and pays what the coupon
takes off the bill (lps_core.coupons.redemption); it earns no points. A refund that returns the
whole of the tender gives the coupon's use back as its type's `on_refund` says.
"""
from zope.interface import implementer

from lps_core.builtin.tenders import Tender
from lps_core.contract import ITender, TakenTender, hookimpl
from lps_core.coupons import codes, prizes, redemption
from lps_core.errors import Unprocessable
from lps_core.labels import pgettext


# Listed after LPS's own tenders, whose first the cashier's screen offers as the default: the
# registry takes the implementations in pluggy's stored order, where tryfirst ones come last.
@hookimpl(tryfirst=True)
def lps_tenders(settings, options):
    return [CouponTender()]


@hookimpl
def lps_promotion_kinds():
    return [prizes.CouponPrize()]


@hookimpl
def lps_on_bill_posted(dbsession, posted):
    prizes.on_bill_posted(dbsession, posted)


@hookimpl
def lps_on_bill_refunded(dbsession, refunded):
    redemption.on_bill_refunded(dbsession, refunded)
    prizes.on_bill_refunded(dbsession, refunded)


@implementer(ITender)
class CouponTender(Tender):
    name = "coupon"

    label = pgettext("tender", "Coupon")

    def earns_points(self, settings):
        return False

    def _coupon(self, line, context):
        field = f"{line.field}.reference"
        return redemption.check_tender(context.db, line.reference or "", line.amount_cents,
                                       member_id=context.card.member_id, outlet_code=context.outlet_code,
                                       bill_cents=sum(other.amount_cents for other in context.lines),
                                       at=context.occurred_at, field=field)

    def validate(self, line, context):
        self._coupon(line, context)
        code = codes.normalize(line.reference or "")
        if any(other.kind == self.name and codes.normalize(other.reference or "") == code
               for other in context.lines[:line.position]):
            raise Unprocessable(f"coupon {code} is named twice",
                                {f"{line.field}.reference": "this coupon is already a tender of this bill"})

    def take(self, line, context):
        coupon = self._coupon(line, context)
        redemption.take_tender(context.db, coupon, settlement_id=context.settlement_id, position=line.position,
                               outlet_id=context.outlet_id, amount_cents=line.amount_cents, at=context.occurred_at,
                               field=f"{line.field}.reference")
        return TakenTender(reference=coupon.code, details={"coupon_id": coupon.id})

    def give_back(self, tender, share_cents, earlier_cents, context, *, whole_bill):
        whole_tender_back = share_cents > 0 and earlier_cents + share_cents == tender.amount_cents
        return {"coupon_reinstated": whole_tender_back and redemption.give_back_tender(
            context.db, tender.settlement_id, tender.position)}
