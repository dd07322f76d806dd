"""Coupons (赠券): coupon types, the coupons issued to members, and their redemptions."""
