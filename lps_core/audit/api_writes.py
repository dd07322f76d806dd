"""Records every successful write through the JSON API in the audit log, as a business action.

A tween between pyramid_tm and the view: it sees the final response of each request while the
request's transaction is still open, so a request that fails (or rolls back) records nothing.
The entry names the API key (its prefix and label) and its outlet, the action (the business code
of the route, from API_ACTIONS, so that "member.enrol" finds enrolments made at the desk and
through the API alike; an unlisted route, a plugin's say, is recorded under its own name), the
thing written (from the URL, or the id the response gives), and the response's top-level plain
values (ids, status, amounts, balances), masked by lps_core.audit.services.record like every entry.
A view that records its own entry gets no second one from here, and a till's postings get none at all
(see NOT_RECORDED)."""
import json

from lps_core.audit.services import Actor, record, recorded_in

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_SUMMARY_KEYS = 20
MAX_SUMMARY_TEXT = 200

# route name -> (action code, target type); the target's id is the URL's one parameter, or the
# response's "id", "number" or "code".
API_ACTIONS = {
    "api.members": ("member.enrol", "member"),
    "api.member_approve": ("member.approve", "member"),
    "api.member_tier_purchase": ("member.tier_purchase", "member"),
    "api.member_tier_floor": ("member.tier_floor", "member"),
    "api.settlement_receipt_prints": ("receipt.print", "settlement"),
    "api.card_anonymous": ("card.issue_anonymous", "card"),
    "api.card_status": ("card.status", "card"),
    "api.card_replace": ("card.replace", "card"),
    "api.card_pin": ("card.pin", "card"),
    "api.card_renew": ("card.renew", "card"),
    "api.memberships": ("membership.sale", "card"),
    "api.card_membership_renewals": ("membership.renewal", "card"),
    "api.card_membership_cancel": ("membership.cancel", "card"),
    "api.card_deposits": ("card.deposit", "card"),
    "api.card_uses": ("card.top_up", "card"),
    "api.card_repayments": ("card.repayment", "card"),
    "api.card_types": ("card_type.create", "card_type"),
    "api.card_type": ("card_type.edit", "card_type"),
    "api.outlet_rules": ("outlet.rule_version", "outlet"),
    "api.receipt_layout": ("outlet.receipt_layout", "outlet"),
    "api.promotions": ("promotion.create", "promotion"),
    "api.promotion": ("promotion.edit", "promotion"),
    "api.rewards": ("reward.create", "reward"),
    "api.reward": ("reward.edit", "reward"),
    "api.reward_stock": ("reward.restock", "reward"),
    "api.redemptions": ("redemption.create", "redemption"),
    "api.card_redemptions": ("redemption.create", "redemption"),
    "api.redemption_collect": ("redemption.collect", "redemption"),
    "api.redemption_cancel": ("redemption.cancel", "redemption"),
    "api.vouchers": ("voucher.issue", "voucher"),
    "api.voucher_void": ("voucher.void", "voucher"),
}
# POSTs recorded elsewhere. A bill's points explained before it is posted writes nothing. A till's
# postings (bills, settlements, their refunds and reversals) are their own audit record: the row and
# its ledger entries name the API key (api_key_id), the outlet, the time and the content, in the same
# transaction; a second row in audit_log would add a write to the hottest path and nothing else.
NOT_RECORDED = frozenset({"api.preview", "api.transactions", "api.transaction_reversal", "api.settlements",
                          "api.settlement_refunds"})
RESPONSE_IDS = ("id", "number", "code", "card_no")


def api_write_tween_factory(handler, registry):
    def api_write_tween(request):
        response = handler(request)
        if (request.method not in READ_METHODS and 200 <= response.status_code < 300
                and request.path.startswith("/api/") and request.matched_route is not None
                and request.matched_route.name not in NOT_RECORDED and not recorded_in(request.dbsession)):
            record_api_write(request, response)
        return response

    return api_write_tween


def api_actor(request) -> tuple[Actor, int | None]:
    """Who writes through the API: the request's key (its prefix and label) and the key's outlet, as
    lps_core.http.request.authenticate verified it. A view that records its own entry (with a before
    and after) names its actor with this."""
    key = getattr(request, "verified_api_key", None)
    if key is None:  # a write that needs no key would be a bug; record it as such rather than drop it
        return Actor("api_key", "unknown"), None
    return Actor.api_key(key.id, f"{key.prefix} ({key.label})" if key.label else key.prefix), key.outlet.id


def record_api_write(request, response):
    actor, outlet_id = api_actor(request)
    route = request.matched_route.name
    matchdict = request.matchdict or {}
    summary = _summary(response)
    action, target_type = API_ACTIONS.get(route, (route, route))
    if len(matchdict) == 1:
        target = (target_type, next(iter(matchdict.values())))
    elif matchdict:
        target = (target_type, ",".join(f"{k}={v}" for k, v in sorted(matchdict.items())))
    else:
        found = next((summary[name] for name in RESPONSE_IDS if (summary or {}).get(name) is not None), None)
        target = (target_type, found) if found is not None else None
    record(request.dbsession, actor=actor, action=action, target=target, after=summary,
           address=request.client_addr, outlet_id=outlet_id)


def _summary(response):
    """The response's top-level plain values: enough to find what was written, never a whole document."""
    if response.content_type != "application/json":
        return None
    try:
        body = json.loads(response.body)
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    summary = {}
    for name, value in list(body.items())[:MAX_SUMMARY_KEYS]:
        if isinstance(value, str):
            summary[name] = value[:MAX_SUMMARY_TEXT]
        elif value is None or isinstance(value, (bool, int, float)):
            summary[name] = value
    return summary
