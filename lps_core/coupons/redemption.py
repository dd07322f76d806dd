"""Using coupons: as a settlement's coupon tender (amount, percent, free item), or a multiplier on
a posted bill's points; and giving them back on a refund.

A coupon tender pays what the coupon takes off the bill, at most: its amount, its percentage of the
bill after the member's discount, or the free item up to the type's value. It earns no points (it is
not money the member spent). The use and its redemption row are written in the settlement's own
transaction; a full refund of the tender gives the use back when the type's `on_refund` says so
(always, only while the coupon is valid, or never).

A multiplier coupon applies to a bill the till has posted (earned): the member gets the bill's
points times (multiplier - 1) more, as one ledger credit keyed by coupon and bill, expiring with
the bill's points. A refund takes them back in step with the bill's points, all of what is left
when the refund is whole; the coupon's use then comes back as the type's `on_refund` says.
"""
from decimal import ROUND_FLOOR

from sqlalchemy import func, insert, or_, select, update

from lps_core.coupons.models import MULTIPLIER, CouponRedemption
from lps_core.coupons.services import check_usable, discount_of, find_coupon, give_back_use, number_text, use
from lps_core.earning.models import Bill
from lps_core.errors import NotFound, Unprocessable
from lps_core.ledger import services as ledger
from lps_core.ledger.models import POINTS, LedgerEntry, PointLot
from lps_core.money import format_cents
from lps_core.timeutil import as_utc, utcnow

BONUS_KIND = "bonus"  # counted with the other bonus points by the reports


def check_tender(db, code, amount_cents, *, member_id, outlet_code, bill_cents, at, field):
    """The coupon a tender line names, if this bill may use it for `amount_cents`; 422 naming
    `field` (the line's reference) otherwise."""
    coupon, coupon_type = find_coupon(db, code, field=field)
    check_usable(coupon, coupon_type, member_id=member_id, outlet_code=outlet_code, spend_cents=bill_cents, at=at,
                 field=field)
    if coupon_type.kind == MULTIPLIER:
        raise Unprocessable(f"coupon {coupon.code} multiplies points; it pays nothing",
                            {field: "a points multiplier is applied to the posted bill, not as a tender"})
    most = coupon_type.value_cents if coupon_type.kind == "item" else discount_of(coupon_type, bill_cents)
    if amount_cents > most:
        raise Unprocessable(f"coupon {coupon.code} pays at most {format_cents(most)} of this bill",
                            {field: f"pays at most {format_cents(most)}"})
    return coupon


def take_tender(db, coupon, *, settlement_id, position, outlet_id, amount_cents, at, field):
    use(db, coupon.id, field=field)
    db.execute(insert(CouponRedemption).values(coupon_id=coupon.id, outlet_id=outlet_id, settlement_id=settlement_id,
                                               position=position, amount_cents=amount_cents, points=0,
                                               redeemed_at=at))


def give_back_tender(db, settlement_id, position) -> bool:
    """The coupon of a settlement's tender back to its member (a use more), once, if its type's
    refund rule gives it back; returns whether it did. A forfeited use stays taken (its redemption
    keeps no `returned_at`)."""
    redemption = db.scalar(select(CouponRedemption).where(
        CouponRedemption.settlement_id == settlement_id, CouponRedemption.position == position,
        CouponRedemption.returned_at.is_(None)).with_for_update())
    if redemption is None:
        return False
    now = utcnow()
    if not give_back_use(db, redemption.coupon_id, now=now):
        return False
    redemption.returned_at = now
    db.flush()
    return True


def apply_multiplier(db, outlet, code, bill_no, *, now=None) -> CouponRedemption:
    """Multiply a posted bill's points by the coupon's multiplier: one use, one ledger credit of the
    extra points. Applying the same coupon to the same bill again answers the first redemption."""
    now = now or utcnow()
    coupon, coupon_type = find_coupon(db, code)
    bill = db.scalar(select(Bill).where(Bill.outlet_id == outlet.id, Bill.bill_no == bill_no))
    if bill is None:
        raise NotFound(f"bill {bill_no} of outlet {outlet.code} is not posted", {"bill_no": "no such bill"})
    done = db.scalar(select(CouponRedemption).where(CouponRedemption.coupon_id == coupon.id,
                                                    CouponRedemption.bill_id == bill.id))
    if done is not None:
        return done
    if coupon_type.kind != MULTIPLIER:
        raise Unprocessable(f"coupon {coupon.code} is not a points multiplier",
                            {"code": "not a points multiplier: use it as the bill's coupon tender"})
    check_usable(coupon, coupon_type, member_id=bill.member_id, outlet_code=outlet.code,
                 spend_cents=bill.amount_cents, at=as_utc(bill.occurred_at), field="code")
    if bill.points <= 0:
        raise Unprocessable(f"bill {bill_no} earned no points to multiply", {"bill_no": "earned no points"})
    use(db, coupon.id, field="code")
    extra = int((bill.points * (coupon_type.multiplier - 1)).to_integral_value(rounding=ROUND_FLOOR))
    entry_id = None
    if extra > 0:
        expires_at = db.scalar(select(PointLot.expires_at).join(LedgerEntry, LedgerEntry.id == PointLot.entry_id)
                               .where(LedgerEntry.bill_id == bill.id).order_by(PointLot.id).limit(1))
        account_id = ledger.get_or_create_account(db, POINTS, member_id=bill.member_id)
        entry_id = ledger.credit(db, account_id, extra, kind=BONUS_KIND, business_key=f"coupon:{coupon.id}:bill:{bill.id}",
                                 fingerprint=ledger.fingerprint_of({"coupon": coupon.id, "bill": bill.id}),
                                 occurred_at=now, expires_at=expires_at, outlet_id=outlet.id, bill_id=bill.id,
                                 note=f"coupon {coupon.code}: points x{number_text(coupon_type.multiplier)}",
                                 ).entry_id
    redemption = CouponRedemption(coupon_id=coupon.id, outlet_id=outlet.id, bill_id=bill.id, amount_cents=0,
                                  points=extra, entry_id=entry_id, redeemed_at=now)
    db.add(redemption)
    db.flush()
    return redemption


def on_bill_refunded(db, refunded) -> None:
    """Take back a multiplier's extra points with the bill's: (multiplier - 1) times the points this
    refund took back, rounded down; all that is left on the whole refund, which also gives the
    coupon's use back if its type's refund rule says so."""
    rows = db.execute(select(CouponRedemption).where(CouponRedemption.bill_id == refunded.bill_id,
                                                     CouponRedemption.returned_at.is_(None))).scalars().all()
    for redemption in rows:
        key = f"coupon:{redemption.coupon_id}:refund:{refunded.refund_id}"
        fingerprint = ledger.fingerprint_of({"refund": refunded.refund_id})
        if refunded.whole:
            if redemption.entry_id is not None and _left_of(db, redemption.entry_id) > 0:
                ledger.reverse(db, redemption.entry_id, business_key=key, fingerprint=fingerprint)
            now = utcnow()
            if give_back_use(db, redemption.coupon_id, now=now):
                db.execute(update(CouponRedemption).where(CouponRedemption.id == redemption.id)
                           .values(returned_at=now))
        elif redemption.entry_id is not None and refunded.points > 0:
            bill_points = db.scalar(select(Bill.points).where(Bill.id == refunded.bill_id))
            back = min(redemption.points * refunded.points // bill_points, _left_of(db, redemption.entry_id))
            if back > 0:
                ledger.reverse(db, redemption.entry_id, back, business_key=key, fingerprint=fingerprint)


def _left_of(db, entry_id) -> int:
    """What is left of a credit entry after its reversals (which are negative entries linked to it)."""
    return db.scalar(select(func.sum(LedgerEntry.amount)).where(
        or_(LedgerEntry.id == entry_id, LedgerEntry.reverses_id == entry_id)))
