"""The hotel website's API (scope `website`, docs/website.md): sign-up into the approval queue,
sign-in verification for single sign-on and the handover to the portal, a member's points, tier,
ledger and rewards, and the sync lists of members, bills, settlements, redemptions and ledger
entries by cursor. Thin: read the input through the operation's schema, call
lps_core.website, shape JSON."""
from pyramid.view import view_config

from lps_core.audit.services import Actor
from lps_core.http.document import answer, problems
from lps_core.http.operations import Operation, read_body, read_path, read_query
from lps_core.http.request import authenticate
from lps_core.http.rewards import redemption_json
from lps_core.http.tiers import member_tier_json
from lps_core.rewards.services import consumed_lots, points_ratio
from lps_core.tiers.services import member_tier_status
from lps_core.timeutil import isoformat
from lps_core.website import lists, services
from lps_core.website.schemas import (
    HandoverIn,
    LedgerQuery,
    MemberPath,
    ReservationIn,
    ReservationPath,
    SignInIn,
    SignUpIn,
    SignUpPath,
    SyncQuery,
)
from lps_core.website.sync import settle_seconds

SCOPE = "website"
PREFIX = "/api/v1/website"


def includeme(config):
    # A bad lps.website.* value stops start-up, naming the setting.
    settle_seconds(config.registry.settings)
    services.handover_seconds(config.registry.settings)
    config.add_route("api.website_signups", f"{PREFIX}/signups")
    config.add_route("api.website_signup", f"{PREFIX}/signups/{{reference}}")
    config.add_route("api.website_sign_in", f"{PREFIX}/sign-in")
    config.add_route("api.website_handover", f"{PREFIX}/handover")
    config.add_route("api.website_members", f"{PREFIX}/members")
    config.add_route("api.website_member", f"{PREFIX}/members/{{id}}")
    config.add_route("api.website_member_ledger", f"{PREFIX}/members/{{id}}/ledger")
    config.add_route("api.website_member_tier", f"{PREFIX}/members/{{id}}/tier")
    config.add_route("api.website_member_rewards", f"{PREFIX}/members/{{id}}/rewards")
    config.add_route("api.website_member_reservations", f"{PREFIX}/members/{{id}}/reservations")
    config.add_route("api.website_member_reservation_cancel", f"{PREFIX}/members/{{id}}/reservations/{{no}}/cancel")
    for name in lists.LISTS[1:]:
        config.add_route(f"api.website_{name}", f"{PREFIX}/{name}")
    config.add_api_operations(OPERATIONS, SCHEMAS)
    config.scan(__name__)


TIMESTAMP = {"type": "string", "format": "date-time"}
NULLABLE_TIMESTAMP = {**TIMESTAMP, "nullable": True}
DECIMAL = {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$", "example": "388.00"}
TIER_REF = {"type": "object", "nullable": True, "properties": {"code": {"type": "string"}, "name": {"type": "string"}}}
CARD = {"type": "object", "properties": {"card_no": {"type": "string"}, "status": {"type": "string"},
                                         "card_type": {"type": "string"}}}
REFUNDS = {"type": "object", "properties": {"count": {"type": "integer"}, "amount": DECIMAL,
                                            "points": {"type": "integer"}}}
MONEY_OR_COUNT = {"anyOf": [DECIMAL, {"type": "integer"}],
                  "description": "A decimal string for money accounts (stored_value, bonus_value, credit), "
                                 "a whole number for points and uses"}
SYNC_DESCRIPTION = ("Incremental sync: rows changed at or after `changed_since`, oldest change first, then the "
                    "rows after `cursor` (the `next_cursor` of the previous page). Keep paging with `next_cursor` "
                    "while `more` is true; store it and ask with it again later for what changed since. Rows "
                    "changed in the last seconds come in a later page (docs/website.md#incremental-sync). A "
                    "cursor that is not one LPS gave is 422 naming `cursor`.")


def _sync_operation(name, operation_id, summary, schema):
    return Operation(f"api.website_{name}", "get", operation_id, summary,
                     {"200": answer("A page of changed rows and the cursor to go on from", schema),
                      **problems(401, 403, 422)},
                     scope=SCOPE, query=SyncQuery, description=SYNC_DESCRIPTION)


OPERATIONS = [
    Operation("api.website_signups", "post", "websiteSignUp", "A member's sign-up on the website (waits for approval)",
              {"201": answer("Signed up, pending approval", "WebsiteSignUp"),
               "200": answer("A resend of a sign-up made before (same reference and details)", "WebsiteSignUp"),
               **problems(401, 403, 409, 413, 422)},
              scope=SCOPE, body=SignUpIn,
              description="Lands in the staff's approval queue like any enrolment. Idempotent on `reference`: "
                          "the same details again answer 200 with the first result; other details with the "
                          "same reference are 409 naming `reference`. A phone number a member holds already is "
                          "409 `duplicate_phone` unless `force_duplicate_phone`. A weak password is 422."),
    Operation("api.website_signup", "get", "getWebsiteSignUp", "Where a sign-up stands",
              {"200": answer("The sign-up", "WebsiteSignUp"), **problems(401, 403, 404)},
              scope=SCOPE, path=SignUpPath),
    Operation("api.website_sign_in", "post", "verifyWebsiteSignIn", "Check a member's sign-in for single sign-on",
              {"200": answer("The verdict", "WebsiteSignInVerdict"), **problems(401, 403, 413)},
              scope=SCOPE, body=SignInIn,
              description="The portal's own check: the same answer `refused` whether the card or phone exists "
                          "or not; 5 wrong passwords lock the account for 15 minutes; 20 failures from one "
                          "browser address in 15 minutes answer `throttled`. `pending` and `inactive` come only "
                          "after a right password."),
    Operation("api.website_handover", "post", "createPortalHandover",
              "A one-time link that signs a member the website has signed in in to the portal",
              {"201": answer("The token and the link to send the browser to", "PortalHandover"),
               **problems(401, 403, 404, 413, 422)},
              scope=SCOPE, body=HandoverIn,
              description="Single-use, valid for lps.website.handover_seconds (60 by default). A member who may "
                          "not sign in (pending, closed) is 422 naming `member_id`."),
    Operation("api.website_member", "get", "getWebsiteMember", "A member's status, tier, points balance and cards",
              {"200": answer("The member", "WebsiteMember"), **problems(401, 403, 404)},
              scope=SCOPE, path=MemberPath),
    Operation("api.website_member_ledger", "get", "getWebsiteMemberLedger", "A member's points ledger, newest first",
              {"200": answer("A page of the ledger", "WebsiteLedgerPage"), **problems(401, 403, 404)},
              scope=SCOPE, path=MemberPath, query=LedgerQuery),
    Operation("api.website_member_tier", "get", "getWebsiteMemberTier",
              "A member's tier, benefits and progress to the next",
              {"200": answer("The member's tier", "MemberTier"), **problems(401, 403, 404)},
              scope=SCOPE, path=MemberPath),
    Operation("api.website_member_rewards", "get", "getWebsiteMemberRewards",
              "The rewards a member can reserve, and their reservations",
              {"200": answer("The offers and reservations", "WebsiteMemberRewards"), **problems(401, 403, 404)},
              scope=SCOPE, path=MemberPath),
    Operation("api.website_member_reservations", "post", "reserveWebsiteReward",
              "Reserve a reward for a member, to pick up at an outlet",
              {"201": answer("Reserved", "Redemption"),
               "200": answer("A resend of a reservation made before (same request_key)", "Redemption"),
               **problems(401, 403, 404, 409, 413, 422)},
              scope=SCOPE, path=MemberPath, body=ReservationIn,
              description="Idempotent on `request_key` per member. Too few points or no stock left: 409; a "
                          "reward not for the member's tier, outside its window, an unknown outlet: 422."),
    Operation("api.website_member_reservation_cancel", "post", "cancelWebsiteReservation",
              "Cancel a member's reservation still awaiting pick-up: points and stock go back",
              {"200": answer("Cancelled", "Redemption"), **problems(401, 403, 404, 409)},
              scope=SCOPE, path=ReservationPath,
              description="Another member's reservation answers 404, like an unknown number; one collected or "
                          "cancelled already is 409."),
    _sync_operation("members", "syncWebsiteMembers", "Members changed since a moment", "WebsiteMemberPage"),
    _sync_operation("bills", "syncWebsiteBills", "Bills posted or refunded since a moment", "WebsiteBillPage"),
    _sync_operation("settlements", "syncWebsiteSettlements", "Settlements made or refunded since a moment",
                    "WebsiteSettlementPage"),
    _sync_operation("redemptions", "syncWebsiteRedemptions", "Redemptions made or changed since a moment",
                    "WebsiteRedemptionPage"),
    _sync_operation("ledger-entries", "syncWebsiteLedgerEntries", "Ledger entries written since a moment",
                    "WebsiteLedgerEntryPage"),
]


def _page_schema(item):
    return {"type": "object", "required": ["data", "next_cursor", "more"], "properties": {
        "data": {"type": "array", "items": item},
        "next_cursor": {"type": "string", "description": "Where the next page starts; send it as `cursor`"},
        "more": {"type": "boolean", "description": "Whether more rows wait now; false: ask again later"},
        "horizon": {**TIMESTAMP, "description": "Rows changed up to this moment are in this page or before it"}}}


SCHEMAS = {
    "WebsiteSignUp": {"type": "object", "properties": {
        "member_id": {"type": "integer"}, "reference": {"type": "string"},
        "status": {"type": "string", "description": "pending until staff decide; active once approved; rejected"},
        "card_no": {"type": "string", "nullable": True, "description": "The card issued on approval"},
        "reason": {"type": "string", "nullable": True, "description": "Why staff turned the sign-up down"},
        "replayed": {"type": "boolean"}}},
    "WebsiteSignInVerdict": {"type": "object", "properties": {
        "verdict": {"type": "string", "enum": ["accepted", "refused", "throttled", "pending", "inactive"]},
        "member": {"type": "object", "nullable": True, "description": "Only with `accepted`", "properties": {
            "id": {"type": "integer"}, "name": {"type": "string"}, "status": {"type": "string"},
            "card_no": {"type": "string", "nullable": True}, "tier": TIER_REF,
            "points_balance": {"type": "integer"}}}}},
    "PortalHandover": {"type": "object", "properties": {
        "token": {"type": "string"}, "url": {"type": "string", "description": "/portal/handover?token=..."},
        "expires_at": TIMESTAMP, "next": {"type": "string"}}},
    "WebsiteMember": {"type": "object", "properties": {
        "id": {"type": "integer"}, "name": {"type": "string"}, "status": {"type": "string"},
        "email": {"type": "string", "nullable": True}, "language": {"type": "string", "nullable": True},
        "tier": TIER_REF, "tier_since": NULLABLE_TIMESTAMP,
        "card_no": {"type": "string", "nullable": True, "description": "The card to show: the newest active one"},
        "points_balance": {"type": "integer"},
        "expiring": {"type": "array", "items": {"type": "object", "properties": {
            "expires_at": TIMESTAMP, "points": {"type": "integer"}}}},
        "cards": {"type": "array", "items": CARD}}},
    "WebsiteLedgerPage": {"type": "object", "properties": {
        "member_id": {"type": "integer"}, "page": {"type": "integer"}, "per_page": {"type": "integer"},
        "total": {"type": "integer"}, "points_balance": {"type": "integer"},
        "entries": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "integer"}, "kind": {"type": "string"}, "points": {"type": "integer"},
            "balance_after": {"type": "integer"}, "occurred_at": TIMESTAMP,
            "outlet": {"type": "string", "nullable": True}, "note": {"type": "string", "nullable": True}}}}}},
    "WebsiteMemberRewards": {"type": "object", "properties": {
        "points_balance": {"type": "integer"},
        "offers": {"type": "array", "items": {"type": "object", "properties": {
            "code": {"type": "string"}, "name": {"type": "string"}, "category": {"type": "string"},
            "points": {"type": "integer"}, "missing_points": {"type": "integer"},
            "for_tier": {"type": "boolean"}, "in_stock": {"type": "boolean"},
            "reservable": {"type": "boolean", "description": "Enough points, the member's tier, some left"}}}},
        "reservations": {"type": "array", "items": {"type": "object", "properties": {
            "no": {"type": "string"}, "reward": {"type": "string"}, "outlet": {"type": "string"},
            "points": {"type": "integer"}, "status": {"type": "string"}, "redeemed_at": TIMESTAMP,
            "voucher_expires_at": NULLABLE_TIMESTAMP}}}}},
    "WebsiteMemberPage": _page_schema({"type": "object", "properties": {
        "id": {"type": "integer"}, "name": {"type": "string"}, "status": {"type": "string"},
        "status_reason": {"type": "string", "nullable": True}, "channel": {"type": "string"},
        "email": {"type": "string", "nullable": True}, "phone": {"type": "string", "nullable": True},
        "birthday": {"type": "string", "format": "date", "nullable": True}, "gender": {"type": "string"},
        "language": {"type": "string", "nullable": True}, "tier": TIER_REF, "tier_since": NULLABLE_TIMESTAMP,
        "cards": {"type": "array", "items": CARD}, "created_at": TIMESTAMP, "approved_at": NULLABLE_TIMESTAMP,
        "updated_at": TIMESTAMP}}),
    "WebsiteBillPage": _page_schema({"type": "object", "properties": {
        "id": {"type": "integer"}, "outlet": {"type": "string"}, "bill_no": {"type": "string"},
        "member_id": {"type": "integer"}, "card_no": {"type": "string"}, "amount": DECIMAL,
        "points": {"type": "integer"}, "occurred_at": TIMESTAMP, "refunds": REFUNDS, "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP}}),
    "WebsiteSettlementPage": _page_schema({"type": "object", "properties": {
        "id": {"type": "integer"}, "outlet": {"type": "string"}, "bill_no": {"type": "string"},
        "member_id": {"type": "integer", "nullable": True}, "card_no": {"type": "string"}, "gross": DECIMAL,
        "discount": DECIMAL, "charged": DECIMAL, "points": {"type": "integer"},
        "bill_id": {"type": "integer", "nullable": True}, "occurred_at": TIMESTAMP,
        "tenders": {"type": "array", "items": {"type": "object", "properties": {
            "kind": {"type": "string"}, "amount": DECIMAL}}},
        "refunds": REFUNDS, "created_at": TIMESTAMP, "updated_at": TIMESTAMP}}),
    "WebsiteRedemptionPage": _page_schema({"type": "object", "properties": {
        "id": {"type": "integer"}, "no": {"type": "string"}, "outlet": {"type": "string"},
        "member_id": {"type": "integer"}, "card_no": {"type": "string"},
        "reward": {"type": "object", "properties": {"code": {"type": "string"}, "name": {"type": "string"},
                                                    "category": {"type": "string"}}},
        "quantity": {"type": "integer"}, "points": {"type": "integer"},
        "status": {"type": "string", "enum": ["collected", "awaiting_pickup", "cancelled"]},
        "voucher_expires_at": NULLABLE_TIMESTAMP, "redeemed_at": TIMESTAMP, "collected_at": NULLABLE_TIMESTAMP,
        "cancelled_at": NULLABLE_TIMESTAMP, "cancel_reason": {"type": "string", "nullable": True},
        "updated_at": TIMESTAMP}}),
    "WebsiteLedgerEntryPage": _page_schema({"type": "object", "properties": {
        "id": {"type": "integer"},
        "account": {"type": "string", "enum": ["points", "stored_value", "bonus_value", "uses", "credit"]},
        "member_id": {"type": "integer", "nullable": True},
        "card_no": {"type": "string", "nullable": True, "description": "The card, for a card's account"},
        "kind": {"type": "string"}, "amount": MONEY_OR_COUNT, "balance_after": MONEY_OR_COUNT,
        "reverses": {"type": "integer", "nullable": True}, "outlet": {"type": "string", "nullable": True},
        "bill_no": {"type": "string", "nullable": True}, "note": {"type": "string", "nullable": True},
        "occurred_at": TIMESTAMP, "created_at": TIMESTAMP}}),
}


def _actor(request) -> Actor:
    key = request.verified_api_key
    return Actor.api_key(key.id, f"{key.prefix} ({key.label})" if key.label else key.prefix)


def _when(value):
    return isoformat(value) if value is not None else None


def _ratio(request):
    return points_ratio(request.lps_settings)


# --- Sign-up ---------------------------------------------------------------------------------------------

def _sign_up_json(signup):
    return {"member_id": signup.member_id, "reference": signup.reference, "status": signup.status,
            "card_no": signup.card_no, "reason": signup.reason, "replayed": signup.replayed}


@view_config(route_name="api.website_signups", request_method="POST", require_csrf=False, renderer="json")
def sign_up(request):
    authenticate(request, SCOPE)
    signup = services.sign_up(request.dbsession, read_body(request), actor=_actor(request),
                              address=request.client_addr)
    request.response.status = 200 if signup.replayed else 201
    return _sign_up_json(signup)


@view_config(route_name="api.website_signup", request_method="GET", require_csrf=False, renderer="json")
def sign_up_status(request):
    authenticate(request, SCOPE)
    return _sign_up_json(services.sign_up_status(request.dbsession, read_path(request).reference))


# --- Sign-in and handover ----------------------------------------------------------------------------------

@view_config(route_name="api.website_sign_in", request_method="POST", require_csrf=False, renderer="json")
def verify_sign_in(request):
    authenticate(request, SCOPE)
    body = read_body(request)
    verdict = services.verify_sign_in(request.dbsession, body.identifier, body.password, address=body.address)
    member = None
    if verdict.member_id is not None:
        overview = services.member_overview(request.dbsession, verdict.member_id)
        member = {name: overview[name] for name in ("id", "name", "status", "card_no", "tier", "points_balance")}
    return {"verdict": verdict.verdict, "member": member}


@view_config(route_name="api.website_handover", request_method="POST", require_csrf=False, renderer="json")
def handover(request):
    authenticate(request, SCOPE)
    body = read_body(request)
    made = services.issue_handover(request.dbsession, body.member_id, body.next, key=request.registry.handover_key,
                                   seconds=services.handover_seconds(request.registry.settings),
                                   api_key_id=request.verified_api_key.id)
    request.response.status = 201
    return {"token": made.token, "url": request.route_url("portal.handover", _query={"token": made.token}),
            "expires_at": isoformat(made.expires_at), "next": made.next_path}


# --- The member ----------------------------------------------------------------------------------------------

@view_config(route_name="api.website_member", request_method="GET", require_csrf=False, renderer="json")
def member(request):
    authenticate(request, SCOPE)
    member_id = read_path(request).id
    overview = services.member_overview(request.dbsession, member_id)
    return {**overview, "tier_since": _when(overview["tier_since"]),
            "expiring": [{"expires_at": isoformat(moment), "points": points} for moment, points in overview["expiring"]]}


@view_config(route_name="api.website_member_ledger", request_method="GET", require_csrf=False, renderer="json")
def member_ledger(request):
    authenticate(request, SCOPE)
    member_id = read_path(request).id
    query = read_query(request)
    total, entries = services.member_ledger(request.dbsession, member_id, query.page, query.per_page)
    return {"member_id": member_id, "page": query.page, "per_page": query.per_page, "total": total,
            "points_balance": services.points_balance(request.dbsession, member_id),
            "entries": [{"id": entry.id, "kind": entry.kind, "points": entry.amount,
                         "balance_after": entry.balance_after, "occurred_at": isoformat(entry.occurred_at),
                         "outlet": entry.outlet, "note": entry.note} for entry in entries]}


@view_config(route_name="api.website_member_tier", request_method="GET", require_csrf=False, renderer="json")
def member_tier(request):
    authenticate(request, SCOPE)
    return member_tier_json(member_tier_status(request.dbsession, request.lps_settings, read_path(request).id))


@view_config(route_name="api.website_member_rewards", request_method="GET", require_csrf=False, renderer="json")
def member_rewards(request):
    authenticate(request, SCOPE)
    found = services.member_rewards(request.dbsession, read_path(request).id, _ratio(request))
    return {"points_balance": found["balance"],
            "offers": [{"code": offer.code, "name": offer.name, "category": offer.category, "points": offer.points,
                        "missing_points": offer.missing, "for_tier": offer.for_tier, "in_stock": offer.in_stock,
                        "reservable": offer.missing == 0 and offer.for_tier and offer.in_stock}
                       for offer in found["offers"]],
            "reservations": [{"no": row["number"], "reward": row["reward"], "outlet": row["outlet"],
                              "points": row["points"], "status": row["status"],
                              "redeemed_at": isoformat(row["redeemed_at"]),
                              "voucher_expires_at": _when(row["voucher_expires_at"])}
                             for row in found["reservations"]]}


def _redemption(request, view):
    return redemption_json(view, consumed_lots(request.dbsession, [view.id]))


@view_config(route_name="api.website_member_reservations", request_method="POST", require_csrf=False,
             renderer="json")
def reserve(request):
    authenticate(request, SCOPE)
    member_id = read_path(request).id
    body = read_body(request)
    view = services.reserve(request.dbsession, member_id, body.reward, body.outlet, body.request_key,
                            _ratio(request), tz=request.programme.timezone)
    request.response.status = 200 if view.replayed else 201
    return {**_redemption(request, view), "replayed": view.replayed}


@view_config(route_name="api.website_member_reservation_cancel", request_method="POST", require_csrf=False,
             renderer="json")
def cancel_reservation(request):
    authenticate(request, SCOPE)
    path = read_path(request)
    return _redemption(request, services.cancel_reservation(request.dbsession, path.id, path.no))


# --- Incremental sync ------------------------------------------------------------------------------------

@view_config(route_name="api.website_members", request_method="GET", require_csrf=False, renderer="json")
@view_config(route_name="api.website_bills", request_method="GET", require_csrf=False, renderer="json")
@view_config(route_name="api.website_settlements", request_method="GET", require_csrf=False, renderer="json")
@view_config(route_name="api.website_redemptions", request_method="GET", require_csrf=False, renderer="json")
@view_config(route_name="api.website_ledger-entries", request_method="GET", require_csrf=False, renderer="json")
def sync_list(request):
    authenticate(request, SCOPE)
    query = read_query(request)
    name = request.matched_route.name.removeprefix("api.website_")
    records, page = lists.READERS[name](request.dbsession, query, settle_seconds(request.registry.settings))
    return {"data": records, "next_cursor": page.next_cursor, "more": page.more, "horizon": isoformat(page.horizon)}
