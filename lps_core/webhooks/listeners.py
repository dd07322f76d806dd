"""LPS's own listeners that turn events into webhooks (plugin `lps_webhooks`), registered like any
plugin, and the declaration of lps.webhooks.*.

Each listener asks the cached subscriptions (lps_core.webhooks.subscriptions) which active
endpoints want its event. None: it returns without touching the database, which keeps the earn
request within its statement budget. Some: one INSERT (lps_core.webhooks.services.publish) in the
transaction of the event, so a change that rolls back sends nothing.

- lps_on_member_approved: member.approved;
- lps_on_points_posted (a bill earned points) and lps_on_points_reversed (a refund took them
  back): points.posted, with kind earn or reversal;
- lps_on_tier_changed: tier.changed;
- lps_on_redemption_changed: redemption.reserved (waiting for pick-up), redemption.fulfilled
  (collected, at once or later) and redemption.cancelled.

Blocking the plugin (lps.plugins.disabled = lps_webhooks) stops new events; deliveries already
queued are still sent by the worker."""
from sqlalchemy import select

from lps_core.contract import SettingsDeclaration, hookimpl
from lps_core.webhooks import services
from lps_core.webhooks.settings import PREFIX, WebhookSettings, webhook_settings
from lps_core.webhooks.subscriptions import snapshot

REDEMPTION_EVENTS = {"awaiting_pickup": services.REDEMPTION_RESERVED, "collected": services.REDEMPTION_FULFILLED,
                     "cancelled": services.REDEMPTION_CANCELLED}


@hookimpl
def lps_settings():
    return SettingsDeclaration(PREFIX, WebhookSettings)


@hookimpl
def lps_on_member_approved(dbsession, member_id, card_no):
    subscribed = _subscriptions(dbsession)
    endpoints = subscribed.endpoints_for(services.MEMBER_APPROVED)
    if not endpoints:
        return
    from lps_core.members.models import Member, Tier

    row = dbsession.execute(select(Member.name, Member.approved_at, Member.enrolled_outlet_id, Tier.code)
                            .outerjoin(Tier, Tier.id == Member.tier_id).where(Member.id == member_id)).one()
    services.publish(dbsession, endpoints, services.MEMBER_APPROVED, {
        "member_id": member_id, "name": row.name, "card_no": card_no, "tier": row.code,
        "enrolled_at_outlet": _outlet_code(dbsession, subscribed, row.enrolled_outlet_id),
        "approved_at": _timestamp(row.approved_at)})


@hookimpl
def lps_on_points_posted(dbsession, posting, bill):
    if bill.replayed or not bill.points or bill.member_id is None:
        return
    subscribed = _subscriptions(dbsession)
    endpoints = subscribed.endpoints_for(services.POINTS_POSTED)
    if endpoints:
        services.publish(dbsession, endpoints, services.POINTS_POSTED, {
            "member_id": bill.member_id, "kind": "earn", "points": posting.amount, "balance": posting.balance_after,
            "entry_id": posting.entry_id, "transaction_id": bill.id, "bill_no": bill.bill_no,
            "outlet": _outlet_code(dbsession, subscribed, bill.outlet_id), "refund_no": None})


@hookimpl
def lps_on_points_reversed(dbsession, posting, bill):
    if bill.replayed or bill.member_id is None:
        return
    subscribed = _subscriptions(dbsession)
    endpoints = subscribed.endpoints_for(services.POINTS_POSTED)
    if endpoints:
        services.publish(dbsession, endpoints, services.POINTS_POSTED, {
            "member_id": bill.member_id, "kind": "reversal", "points": posting.amount,
            "balance": posting.balance_after, "entry_id": posting.entry_id, "transaction_id": bill.bill_id,
            "bill_no": bill.bill_no, "outlet": _outlet_code(dbsession, subscribed, bill.outlet_id),
            "refund_no": bill.refund_no})


@hookimpl
def lps_on_tier_changed(dbsession, member_id, old_tier, new_tier):
    endpoints = _subscriptions(dbsession).endpoints_for(services.TIER_CHANGED)
    if endpoints:
        services.publish(dbsession, endpoints, services.TIER_CHANGED,
                         {"member_id": member_id, "old_tier": old_tier, "new_tier": new_tier})


@hookimpl
def lps_on_redemption_changed(dbsession, member_id, redemption):
    event_type = REDEMPTION_EVENTS.get(redemption.status)
    if event_type is None or member_id is None:
        return
    endpoints = _subscriptions(dbsession).endpoints_for(event_type)
    if endpoints:
        services.publish(dbsession, endpoints, event_type, {
            "member_id": member_id, "redemption_no": redemption.number, "status": redemption.status,
            "outlet": redemption.outlet_code, "card_no": redemption.card_no, "reward": redemption.reward_code,
            "reward_name": redemption.reward_name, "category": redemption.category,
            "quantity": redemption.quantity, "points": redemption.points,
            "redeemed_at": _timestamp(redemption.redeemed_at), "collected_at": _timestamp(redemption.collected_at),
            "cancelled_at": _timestamp(redemption.cancelled_at), "cancel_reason": redemption.cancel_reason,
            "voucher_expires_at": _timestamp(redemption.voucher_expires_at)})


def _subscriptions(db):
    from lps_core.plugins import plugins_of

    return snapshot(db, webhook_settings(plugins_of(db)).cache_seconds)


def _outlet_code(db, subscribed, outlet_id) -> str | None:
    """The outlet's code from the snapshot; an outlet made since it was read is looked up."""
    if outlet_id is None:
        return None
    code = subscribed.outlet_codes.get(outlet_id)
    if code is None:
        from lps_core.outlets.models import Outlet

        code = db.scalar(select(Outlet.code).where(Outlet.id == outlet_id))
    return code


def _timestamp(value):
    from lps_core.timeutil import isoformat

    return isoformat(value) if value is not None else None
