"""The demo programme's marketing: two coupon types, two saved segments and a draft campaign with a
coupon, so that `lps demo` opens the coupon, segment and campaign screens with something on them.
Idempotent, as the rest of the demo: each record is made once, by its code or name."""
from decimal import Decimal

from sqlalchemy import select

from lps_core.marketing.campaigns import coupons_available, create_campaign
from lps_core.marketing.models import Campaign, Segment
from lps_core.marketing.schemas import CampaignIn, SegmentDefinition
from lps_core.timeutil import utcnow
from lps_core.validation import validate

# code, name, kind and what it gives (lps_core.coupons.services.TypeSpec's fields)
COUPON_TYPES = [
    ("BDAY-10", "Birthday: 10% off", "percent", {"percent": Decimal("10"), "valid_days": 30,
                                                 "min_spend_cents": 10000}),
    ("DINE-50", "50.00 off dinner at Jade Garden", "amount", {"value_cents": 5000, "valid_days": 60,
                                                              "min_spend_cents": 30000, "outlets": ("REST",)}),
]
# name, description, definition (lps_core.marketing.schemas.SegmentDefinition)
SEGMENTS = [
    ("Gold and diamond, e-mail consent", "Our best guests who agreed to e-mail offers",
     {"tiers": ["gold", "diamond"], "consent": ["email"]}),
    ("Not seen for 180 days", "Members to win back", {"absent_days": 180}),
]
CAMPAIGN = {"name": "Autumn dinner offer", "subject": "{member_name}, dinner at Jade Garden is on us",
            "body": "Dear {member_name}, enjoy 50.00 off your next dinner at Jade Garden this autumn.",
            "channels": ["inbox", "email"], "control_percent": 10, "bonus_points": 0}


def load_demo_marketing(db) -> None:
    if coupons_available():
        _coupon_types(db)
    for name, description, definition in SEGMENTS:
        if db.scalar(select(Segment.id).where(Segment.name == name)) is None:
            now = utcnow()
            db.add(Segment(name=name, description=description,
                           definition=validate(SegmentDefinition, definition).stored(),
                           created_by="demo", created_at=now, updated_at=now))
    db.flush()
    if db.scalar(select(Campaign.id).where(Campaign.name == CAMPAIGN["name"])) is None:
        segment_id = db.scalar(select(Segment.id).where(Segment.name == SEGMENTS[0][0]))
        coupon = COUPON_TYPES[1][0] if coupons_available() else None
        create_campaign(db, validate(CampaignIn, {**CAMPAIGN, "segment_id": segment_id, "coupon_type_code": coupon}),
                        by="demo")


def _coupon_types(db) -> None:
    from lps_core.coupons.models import CouponType
    from lps_core.coupons.services import TypeSpec, save_type

    for code, name, kind, gives in COUPON_TYPES:
        if db.scalar(select(CouponType.id).where(CouponType.code == code)) is None:
            save_type(db, TypeSpec(code=code, name=name, kind=kind, **gives))
