"""Bonuses that are not part of a bill's own points: enrolment bonuses at approval, and referral
bonuses for the referrer (and, with more levels, their referrer) when a referred member completes
a first qualifying bill. Each is a ledger credit with its own business key, so it is given once.

They are promotions of the kinds named "enrolment" and "referral", found in the plugin registry by
name: what they give is the kind's (IPromotionKind.evaluate), when the kind is switched on (for the
whole programme at enrolment, at the bill's outlet for a referral)."""
from decimal import Decimal

from sqlalchemy import select

from lps_core.contract import BillPosted, MemberContext, PromotionContext
from lps_core.earning.pipeline import NoFacts, promotion_applies
from lps_core.earning.promotions import record_awards
from lps_core.ledger import services as ledger
from lps_core.ledger.models import POINTS, Account
from lps_core.members.models import Member
from lps_core.timeutil import utcnow

ENROLMENT = "enrolment"
REFERRAL = "referral"


def grant_enrolment_bonus(db, plugins, programme, member_id, at) -> int:
    """Credit every active enrolment promotion whose window holds `at`; returns the points given."""
    kind = plugins.promotion_kinds.get(ENROLMENT)
    if kind is None:
        return 0
    given = 0
    context = PromotionContext(None, MemberContext(member_id), Decimal(0), False, NoFacts())
    for promotion in programme.promotions.on_at(db, plugins, None):
        if promotion.kind != ENROLMENT or not promotion.starts_at <= at < promotion.ends_at:
            continue
        points = kind.evaluate(promotion, context)
        if points > 0:
            given += _credit(db, programme, promotion, member_id, points, f"enrolment:{promotion.id}:{member_id}",
                             at, None, kind.explain(promotion, points))
    return given


def grant_referral_bonuses(db, posted: BillPosted) -> int:
    """On a referred member's bill that qualifies for a referral promotion, credit the referrers up
    the chain, one level at a time while the kind gives points for the level. Only the first
    qualifying bill counts: the business key names the promotion, the referred member and the level."""
    plugins, programme, bill = posted.plugins, posted.programme, posted.bill
    kind = plugins.promotion_kinds.get(REFERRAL)
    if kind is None:
        return 0
    member = MemberContext(posted.member_id)
    given = 0
    for promotion in programme.promotions.on_at(db, plugins, posted.outlet_id):
        if promotion.kind != REFERRAL or not promotion_applies(promotion, bill, member, programme.timezone):
            continue
        referrer, level = posted.referred_by_id, 1
        while referrer is not None:
            points = kind.evaluate(promotion, PromotionContext(bill, member, Decimal(0), False, NoFacts(),
                                                               level=level))
            if points <= 0:
                break
            given += _credit(db, programme, promotion, referrer, points,
                             f"referral:{promotion.id}:{posted.member_id}:{level}", bill.occurred_at,
                             posted.bill_id, f"{kind.explain(promotion, points)}, level {level}")
            referrer = db.scalar(select(Member.referred_by_id).where(Member.id == referrer))
            level += 1
    return given


def _credit(db, programme, promotion, member_id, points, key, at, bill_id, note) -> int:
    account = db.execute(
        select(Account.id).join(Member, Member.id == Account.member_id)
        .where(Account.member_id == member_id, Account.kind == POINTS, Member.status == "active")
    ).scalar_one_or_none()
    expires_at = programme.expiry.lot_expires_at(at)
    if account is None or expires_at <= utcnow():
        return 0  # no active member to credit, or a back-dated bonus that would have expired already
    posting = ledger.credit(db, account, points, kind="bonus", business_key=key, fingerprint=key, occurred_at=at,
                            expires_at=expires_at, note=note,
                            breakdown=[{"step": "promotion", "rule": promotion.code, "points": points,
                                        "description": note}])
    if posting.replayed:
        return 0
    record_awards(db, [{"promotion_id": promotion.id, "member_id": member_id, "bill_id": bill_id,
                        "entry_id": posting.entry_id, "points": points, "occurred_at": at}])
    return points
