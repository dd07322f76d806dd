"""The coupon types screen: saving a type (a refused field shown beside it), issuing one to a card's
holder, audited; staff without coupons.manage are refused."""
from sqlalchemy import select

from lps_core.coupons.models import Coupon, CouponType
from lps_core.testing import audited, csrf_of, sign_in_as

PASSWORD = "Coupons-pass-2026!"


def test_a_type_is_saved_and_issued_from_the_screen(testapp, db, seed):
    sign_in_as(testapp, seed, "marketer", PASSWORD, ["marketing"], ["all"])
    page = testapp.get("/coupons")
    form = {"csrf_token": csrf_of(page), "code": "TEN", "name": "Ten off", "kind": "amount", "value": "10.00",
            "valid_days": "30", "min_spend": "50.00", "outlets": "REST", "uses": "1", "active": "on"}
    refused = testapp.post("/coupons", {**form, "value": "", "percent": "10"}, status=422)
    assert "required for kind amount" in refused.text
    testapp.post("/coupons", form, status=303)
    db.rollback()
    saved = db.scalar(select(CouponType).where(CouponType.code == "TEN"))
    assert (saved.value_cents, saved.min_spend_cents, saved.outlets, saved.valid_days) == (1000, 5000, ["REST"], 30)
    card_no = seed.member_card()
    page = testapp.get("/coupons")
    assert "Ten off" in page.text
    testapp.post("/coupons/issue", {"csrf_token": csrf_of(page), "coupon_type": "TEN", "card_no": card_no,
                                    "note": "complaint 7"}, status=303)
    testapp.post("/coupons/issue", {"csrf_token": csrf_of(page), "coupon_type": "TEN", "card_no": card_no,
                                    "note": "complaint 7"}, status=303)
    db.rollback()
    assert [(c.source, c.source_ref) for c in db.scalars(select(Coupon))] == [("staff", "complaint 7")]
    assert len(audited(db, "coupon_type.save")) == 1 and len(audited(db, "coupon.issue")) == 2


def test_a_cashier_may_not_manage_coupons(testapp, seed):
    sign_in_as(testapp, seed, "till", PASSWORD, ["cashier"], ["REST"])
    testapp.get("/coupons", status=403)
