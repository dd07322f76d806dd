"""LPS's own listeners of a posted bill (plugin `lps_listeners`), registered through the same hooks
as a third party's, so that earning never calls into tiers or referrals itself.

On a posted bill: a dormant member is active again, the member moves up at once when the bill
qualifies them for a higher tier, and the members who referred them get their referral bonuses. All
of it runs in the earning's transaction: a failure here posts nothing. Blocking the plugin
(lps.plugins.disabled = lps_listeners) turns all of it off. The bill's activity counters are not
a listener's: they are a fact of the bill, which earning counts in the bill's own statement and a
refund takes back (lps_core.members.activity).
"""
from lps_core.contract import BillPosted, hookimpl
from lps_core.earning.bonuses import grant_referral_bonuses
from lps_core.tiers.services import reactivate_if_dormant, upgrade_if_qualified


@hookimpl(specname="lps_on_bill_posted")
def count_bill_towards_tier(dbsession, posted: BillPosted):
    """The tier side of a bill: the member's return from dormancy, the upgrade check. On PostgreSQL
    the bill's own statement read the member's activity in the window (`posted.activity`), so the
    check sends no statement unless the member moves up."""
    if posted.member_status == "dormant":
        reactivate_if_dormant(dbsession, posted.member_id)
    upgrade_if_qualified(dbsession, posted.plugins, posted.programme.settings, posted.member_id,
                         posted.bill.occurred_at, posted.programme.tiers.all(dbsession), member=posted.activity)


@hookimpl(specname="lps_on_bill_posted")
def grant_referral_bonuses_of_bill(dbsession, posted: BillPosted):
    """The bonuses of the members up the referral chain, on the referred member's qualifying bill."""
    if posted.referred_by_id is not None:
        grant_referral_bonuses(dbsession, posted)
