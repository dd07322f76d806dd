"""LPS's own listeners of a posted or refunded bill (plugin `lps_listeners`), registered through the
same hooks as a third party's, so that earning never calls into tiers or referrals itself.

On a posted bill: the bill counts towards the member's tier, a dormant member is active again, the
member moves up at once when the bill qualifies them for a higher tier, and the members who
referred them get their referral bonuses. On a refund, the tier activity it takes back. All of it
runs in the earning's transaction: a failure here posts nothing. Blocking the plugin
(lps.plugins.disabled = lps_listeners) turns all of it off.
"""
from lps_core.contract import BillPosted, BillRefunded, hookimpl
from lps_core.earning.bonuses import grant_referral_bonuses
from lps_core.tiers.activity import record_activity
from lps_core.tiers.services import reactivate_if_dormant, tier_window, upgrade_if_qualified


@hookimpl(specname="lps_on_bill_posted")
def count_bill_towards_tier(dbsession, posted: BillPosted):
    """The tier side of a bill: its activity, the member's return from dormancy, the upgrade check."""
    bill, qualifying, settings = posted.bill, posted.qualifying, posted.programme.settings
    # On PostgreSQL the activity's statement also reads what the upgrade check needs: one round trip.
    in_window = record_activity(dbsession, posted.member_id, bill.occurred_at, points=posted.points,
                                spend_cents=bill.amount_cents, nights=qualifying.get("nights", 0),
                                stays=qualifying.get("stays", 0), bills=1,
                                window=tier_window(settings, bill.occurred_at))
    if posted.member_status == "dormant":
        reactivate_if_dormant(dbsession, posted.member_id)
    upgrade_if_qualified(dbsession, posted.plugins, settings, posted.member_id, bill.occurred_at,
                         posted.programme.tiers.all(dbsession), member=in_window)


@hookimpl(specname="lps_on_bill_posted")
def grant_referral_bonuses_of_bill(dbsession, posted: BillPosted):
    """The bonuses of the members up the referral chain, on the referred member's qualifying bill."""
    if posted.referred_by_id is not None:
        grant_referral_bonuses(dbsession, posted)


@hookimpl(specname="lps_on_bill_refunded")
def take_refund_from_tier_activity(dbsession, refunded: BillRefunded):
    """The refund's share of the bill, taken back from the member's activity of the bill's month."""
    qualifying = refunded.qualifying
    record_activity(dbsession, refunded.member_id, refunded.bill_occurred_at, points=-refunded.points,
                    spend_cents=-refunded.amount_cents, nights=-qualifying.get("nights", 0),
                    stays=-qualifying.get("stays", 0), bills=-1 if refunded.whole else 0)
