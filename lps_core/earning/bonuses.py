"""Bonuses that are not part of a bill's own points: enrolment bonuses at approval, and referral
bonuses for the referrer (and, with more levels, their referrer) when a referred member completes
a first qualifying bill. Each is a ledger credit with its own business key, so it is given once."""
from sqlalchemy import select

from lps_core.earning.pipeline import MemberContext, promotion_applies
from lps_core.earning.promotions import record_awards
from lps_core.ledger import services as ledger
from lps_core.ledger.models import POINTS, Account
from lps_core.members.models import Member
from lps_core.timeutil import utcnow


def grant_enrolment_bonus(db, programme, member_id, at) -> int:
    """Credit every active enrolment promotion whose window holds `at`; returns the points given."""
    given = 0
    for promotion in programme.promotions.active(db):
        if promotion.kind != "enrolment" or not promotion.starts_at <= at < promotion.ends_at:
            continue
        given += _credit(db, programme, promotion, member_id, promotion.params["points"],
                         f"enrolment:{promotion.id}:{member_id}", at, None, f"{promotion.name}: enrolment bonus")
    return given


def grant_referral_bonuses(db, programme, member_id, referrer_id, bill, bill_id) -> int:
    """On a referred member's bill that qualifies for a referral promotion, credit the referrers up
    the chain, one level per entry of the promotion's `levels`. Only the first qualifying bill
    counts: the business key names the promotion, the referred member and the level."""
    given = 0
    for promotion in programme.promotions.active(db):
        if promotion.kind != "referral" or not promotion_applies(promotion, bill, MemberContext(member_id),
                                                                 programme.timezone):
            continue
        referrer = referrer_id
        for level, points in enumerate(promotion.params["levels"], start=1):
            if referrer is None:
                break
            given += _credit(db, programme, promotion, referrer, points,
                             f"referral:{promotion.id}:{member_id}:{level}", bill.occurred_at, bill_id,
                             f"{promotion.name}: referral bonus, level {level}")
            referrer = db.scalar(select(Member.referred_by_id).where(Member.id == referrer))
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
