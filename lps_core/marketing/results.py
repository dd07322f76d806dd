"""A campaign's results: what its messages became, who unsubscribed since, the coupons redeemed,
and the spend of its recipients in the 30 days after it started against the control group's (the
same segment, held out), per member so groups of different sizes compare."""
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import and_, func, select

from lps_core.earning.models import Bill
from lps_core.marketing.campaigns import get_campaign
from lps_core.marketing.models import CampaignMember
from lps_core.messages.models import CANCELLED, DEAD, QUEUED, SENDING, SENT, MessageConsent, OutboxMessage

FOLLOWING_DAYS = 30


def campaign_results(db, campaign_id) -> dict:
    campaign = get_campaign(db, campaign_id)
    members = select(CampaignMember.member_id, CampaignMember.control).where(
        CampaignMember.campaign_id == campaign_id).subquery()
    groups = dict(db.execute(select(members.c.control, func.count()).group_by(members.c.control)).all())
    statuses = dict(db.execute(select(OutboxMessage.status, func.count()).where(
        OutboxMessage.event == "campaign", OutboxMessage.dedupe_key.like(f"campaign:{campaign_id}:%"))
        .group_by(OutboxMessage.status)).all())
    results = {"campaign_id": campaign.id, "status": campaign.status, "recipients": groups.get(False, 0),
               "control": groups.get(True, 0), "queued": statuses.get(QUEUED, 0) + statuses.get(SENDING, 0),
               "sent": statuses.get(SENT, 0), "failed": statuses.get(DEAD, 0),
               "cancelled": statuses.get(CANCELLED, 0), "unsubscribed": 0, "coupons_issued": 0,
               "coupons_redeemed": 0, "spend": None}
    if campaign.started_at is None:
        return results
    results["unsubscribed"] = db.scalar(select(func.count(func.distinct(MessageConsent.member_id))).where(
        MessageConsent.member_id.in_(select(members.c.member_id).where(members.c.control.is_(False))),
        MessageConsent.granted.is_(False), MessageConsent.source == "unsubscribe",
        MessageConsent.changed_at >= campaign.started_at))
    results.update(_coupons(db, campaign_id))
    ends = campaign.started_at + timedelta(days=FOLLOWING_DAYS)
    spend = dict(db.execute(select(members.c.control, func.coalesce(func.sum(Bill.amount_cents), 0))
                            .join(Bill, and_(Bill.member_id == members.c.member_id,
                                             Bill.occurred_at >= campaign.started_at, Bill.occurred_at < ends))
                            .group_by(members.c.control)).all())
    results["spend"] = {"days": FOLLOWING_DAYS, "until": ends,
                        "recipients_cents": int(spend.get(False, 0)), "control_cents": int(spend.get(True, 0)),
                        "per_recipient_cents": _per(spend.get(False, 0), results["recipients"]),
                        "per_control_cents": _per(spend.get(True, 0), results["control"])}
    return results


def _per(total, members) -> int | None:
    if not members:
        return None
    return int((Decimal(int(total)) / members).quantize(Decimal(1), ROUND_HALF_UP))


def _coupons(db, campaign_id) -> dict:
    """Coupons issued by the campaign and how many were used (lps_core.coupons, once installed)."""
    from importlib.util import find_spec

    if find_spec("lps_core.coupons") is None:
        return {}
    from lps_core.coupons.models import Coupon, CouponRedemption

    issued = select(Coupon.id).where(Coupon.source == "campaign", Coupon.source_ref == str(campaign_id))
    return {"coupons_issued": db.scalar(select(func.count()).select_from(issued.subquery())),
            "coupons_redeemed": db.scalar(select(func.count(func.distinct(CouponRedemption.coupon_id))).where(
                CouponRedemption.coupon_id.in_(issued), CouponRedemption.returned_at.is_(None)))}
