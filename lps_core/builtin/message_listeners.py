"""LPS's own listeners that tell members what happened (plugin `lps_messages`): each writes to the
outbox (lps_core.messages.outbox.enqueue) in the transaction of the event, so a change that rolls
back tells no one. Blocking the plugin (lps.plugins.disabled = lps_messages) turns them off; the
templates and consent rules are those of docs/messages.md.

- a tier change: `tier_changed`, with the tiers' names;
- an expiry warning of `lps jobs expire`: `points_expiring`;
- points earned on a bill: `points_earned`, only with lps.messages.points_earned = true."""
from sqlalchemy import select

from lps_core.contract import hookimpl
from lps_core.messages.outbox import enqueue, messages_settings


@hookimpl
def lps_on_tier_changed(dbsession, member_id, old_tier, new_tier):
    from lps_core.members.models import Tier
    from lps_core.timeutil import utcnow

    names = dict(dbsession.execute(select(Tier.code, Tier.name).where(Tier.code.in_(
        [code for code in (old_tier, new_tier) if code]))).all())
    enqueue(dbsession, "tier_changed", member_id=member_id,
            key=f"{member_id}:{old_tier or '-'}:{new_tier}:{utcnow().date().isoformat()}",
            context={"old_tier": names.get(old_tier, old_tier or "-"), "new_tier": names.get(new_tier, new_tier)})


@hookimpl
def lps_on_points_expiring(dbsession, member_id, account_id, points, expires_on):
    enqueue(dbsession, "points_expiring", member_id=member_id, key=f"{account_id}:{expires_on.isoformat()}",
            context={"points": f"{points:,}", "expires_on": expires_on.isoformat()})


@hookimpl
def lps_on_points_posted(dbsession, posting, bill):
    if not messages_settings(dbsession).points_earned or bill.replayed or not bill.points or bill.member_id is None:
        return
    from lps_core.outlets.models import Outlet

    outlet = dbsession.scalar(select(Outlet.name).where(Outlet.id == bill.outlet_id))
    enqueue(dbsession, "points_earned", member_id=bill.member_id, key=f"bill:{bill.id}", outlet_id=bill.outlet_id,
            context={"points": f"{bill.points:,}", "balance": f"{bill.points_balance:,}", "outlet": outlet or "",
                     "bill_no": bill.bill_no})
