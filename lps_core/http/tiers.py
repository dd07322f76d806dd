"""Tier API views: the programme's tiers and benefits (and their configuration: create, change,
reorder, retire, each audited), a member's tier and progress, buying a higher tier with points, and
staff floors. Thin: parse and validate, call a service, shape JSON."""
from pyramid.view import view_config
from sqlalchemy import select

from lps_core.audit.api_writes import api_actor
from lps_core.audit.services import record
from lps_core.http.document import answer, problems
from lps_core.http.operations import Operation, read_body, read_path
from lps_core.http.request import authenticate
from lps_core.members.models import Member
from lps_core.members.schemas import MemberPath
from lps_core.money import format_cents
from lps_core.operators.access import api_key_scope, require_member_write
from lps_core.tiers import configuration
from lps_core.tiers import services as tiers
from lps_core.tiers.schemas import TierChangeIn, TierFloorIn, TierIn, TierOrderIn, TierPath, TierPurchaseIn
from lps_core.timeutil import isoformat


def includeme(config):
    config.add_route("api.tiers", "/api/v1/tiers")
    config.add_route("api.tier_order", "/api/v1/tier-order")
    config.add_route("api.tier", "/api/v1/tiers/{code}")
    config.add_route("api.tier_retire", "/api/v1/tiers/{code}/retire")
    config.add_route("api.member_tier", "/api/v1/members/{id}/tier")
    config.add_route("api.member_tier_purchase", "/api/v1/members/{id}/tier-purchase")
    config.add_route("api.member_tier_floor", "/api/v1/members/{id}/tier-floor")
    config.add_api_operations(OPERATIONS, SCHEMAS)
    config.scan(__name__)


DECIMAL = {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$", "example": "380.00"}

OPERATIONS = [
    Operation("api.tiers", "get", "listTiers", "The programme's tiers with benefits and qualification",
              {"200": answer("Tiers in use, lowest first", "TierList"), **problems(401, 403)}, scope="cards.read"),
    Operation("api.tiers", "post", "createTier", "Add a tier to the programme",
              {"201": answer("Created", "Tier"), **problems(401, 403, 409, 413, 422)},
              scope="tiers.manage", body=TierIn,
              description="The new tier goes directly above `above`, or at the top. A code already used, "
                          "even by a retired tier, answers 409. Members move into it by qualifying, buying "
                          "it, a floor or the next evaluation."),
    Operation("api.tier", "get", "getTier", "One tier, retired or not",
              {"200": answer("The tier", "Tier"), **problems(401, 403, 404)}, scope="cards.read", path=TierPath),
    Operation("api.tier", "patch", "changeTier", "Rename a tier or change its benefits, qualification or price",
              {"200": answer("Changed", "Tier"), **problems(401, 403, 404, 409, 413, 422)},
              scope="tiers.manage", body=TierChangeIn, path=TierPath,
              description="Fields left out keep their value; null clears purchase_points (not for sale) and "
                          "qualification (not reached by activity). A retired tier answers 409."),
    Operation("api.tier_order", "post", "reorderTiers", "Put the tiers in use in a new order, lowest first",
              {"200": answer("The new order", "TierOrder"), **problems(401, 403, 409, 413, 422)},
              scope="tiers.manage", body=TierOrderIn,
              description="`codes` names every tier in use once, the entry tier first. The tiers keep the "
                          "set of ranks they hold between them. No member moves: the next evaluation "
                          "(lps jobs tiers) places members by the new order."),
    Operation("api.tier_retire", "post", "retireTier", "Retire a tier; its members move down one tier",
              {"200": answer("Retired", "RetiredTier"), **problems(401, 403, 404, 409)},
              scope="tiers.manage", path=TierPath,
              description="Every member holding the tier moves to the next lower tier in use (the next "
                          "higher one when the lowest tier is retired), with a tier change of reason "
                          "'retired'; floors on it move the same way. The last tier in use, or a tier "
                          "already retired, answers 409."),
    Operation("api.member_tier", "get", "getMemberTier",
              "A member's tier, floor, activity in the window and progress to the next tier",
              {"200": answer("The member's tier", "MemberTier"), **problems(401, 403, 404)},
              scope="cards.read", path=MemberPath),
    Operation("api.member_tier_purchase", "post", "purchaseTier", "Buy a higher tier with points",
              {"201": answer("Bought", "TierPurchase"),
               "200": answer("Replay of an earlier identical purchase", "TierPurchase"),
               **problems(401, 403, 404, 409, 413, 422)},
              scope="members", body=TierPurchaseIn, path=MemberPath,
              description="Idempotent on (member, purchase_no): the same body again answers 200 with the first "
                          "result; the same purchase_no for another tier answers 409. Too few points: 409 "
                          "insufficient_balance."),
    Operation("api.member_tier_floor", "post", "setTierFloor",
              "Set a staff floor (status match); raises the member to it at once",
              {"200": answer("Floor set", "TierFloor"), **problems(401, 403, 404, 409, 413, 422)},
              scope="tiers.manage", body=TierFloorIn, path=MemberPath),
]

SCHEMAS = {
    "TierRef": {"type": "object", "properties": {
        "code": {"type": "string"}, "name": {"type": "string"}, "rank": {"type": "integer", "nullable": True}}},
    "Tier": {"type": "object", "properties": {
        "code": {"type": "string"}, "name": {"type": "string"},
        "rank": {"type": "integer", "nullable": True, "description": "Its place, lowest first; none when retired"},
        "benefits": {"type": "object", "properties": {
            "multiplier": {"type": "string", "example": "1.500"},
            "discount_rate": {"type": "string", "example": "0.1000"},
            "entitlements": {"type": "array", "items": {"type": "string"}}}},
        "qualification": {"type": "object", "nullable": True,
                          "description": "The minimum of each criterion; qualification_mode says how they combine",
                          "properties": {"points": {"type": "integer"}, "spend": DECIMAL,
                                         "nights": {"type": "integer"}, "stays": {"type": "integer"}}},
        "qualification_mode": {"type": "string", "enum": ["any", "all"],
                               "description": "any: one criterion reached is enough; all: every one is needed"},
        "purchase_points": {"type": "integer", "nullable": True},
        "retired_at": {"type": "string", "format": "date-time", "nullable": True,
                       "description": "Set on a retired tier, which has no rank"}}},
    "TierOrder": {"type": "object", "properties": {
        "tiers": {"type": "array", "items": {"$ref": "#/components/schemas/TierRef"}}}},
    "RetiredTier": {"type": "object", "properties": {
        "code": {"type": "string"}, "retired_at": {"type": "string", "format": "date-time"},
        "moved_to": {"type": "string", "description": "The tier its members and floors moved to"},
        "members_moved": {"type": "integer"}, "floors_moved": {"type": "integer"}}},
    "TierList": {"type": "object", "properties": {
        "model": {"type": "string"},
        "window": {"type": "string", "enum": ["calendar_year", "rolling_12_months"]},
        "tiers": {"type": "array", "items": {"$ref": "#/components/schemas/Tier"}}}},
    "MemberTier": {"type": "object", "properties": {
        "member_id": {"type": "integer"}, "status": {"type": "string"},
        "tier": {"allOf": [{"$ref": "#/components/schemas/Tier"}], "nullable": True},
        "since": {"type": "string", "format": "date-time", "nullable": True},
        "floor": {"type": "object", "nullable": True, "properties": {
            "tier": {"type": "string"}, "expires_at": {"type": "string", "format": "date-time"},
            "active": {"type": "boolean"}}},
        "window": {"type": "object", "properties": {
            "kind": {"type": "string"}, "from": {"type": "string", "format": "date"},
            "until": {"type": "string", "format": "date", "description": "Exclusive"}}},
        "activity": {"type": "object", "properties": {
            "points": {"type": "integer"}, "spend": DECIMAL, "nights": {"type": "integer"},
            "stays": {"type": "integer"}, "bills": {"type": "integer"}}},
        "next_tier": {"type": "object", "nullable": True, "properties": {
            "tier": {"$ref": "#/components/schemas/TierRef"},
            "needs": {"type": "object", "description": "What is still missing per criterion"},
            "mode": {"type": "string", "enum": ["any", "all"],
                     "description": "any: one criterion reached is enough; all: every one is needed"},
            "progress": {"type": "number", "minimum": 0, "maximum": 1}}}}},
    "TierPurchase": {"type": "object", "properties": {
        "member_id": {"type": "integer"}, "tier": {"type": "string"}, "points": {"type": "integer"},
        "points_balance": {"type": "integer"}, "outlet": {"type": "string"}, "replayed": {"type": "boolean"}}},
    "TierFloor": {"type": "object", "properties": {
        "member_id": {"type": "integer"},
        "floor": {"type": "object", "properties": {"tier": {"type": "string"},
                                                   "expires_at": {"type": "string", "format": "date-time"}}},
        "tier": {"type": "string", "nullable": True, "description": "The new tier if raised"},
        "raised": {"type": "boolean"}}},
}


def tier_json(tier, *, full=False, retired_at=None):
    if tier is None:
        return None
    brief = {"code": tier.code, "name": tier.name, "rank": tier.rank}
    if not full:
        return brief
    qualification = {("spend" if counter == "spend_cents" else counter):
                     (format_cents(minimum) if counter == "spend_cents" else minimum)
                     for counter, minimum in tier.threshold.items()}
    return {
        **brief,
        "benefits": {"multiplier": str(tier.multiplier), "discount_rate": str(tier.discount_rate),
                     "entitlements": tier.entitlements},
        "qualification": qualification or None,
        "qualification_mode": tier.mode,
        "purchase_points": tier.purchase_points,
        "retired_at": isoformat(retired_at) if retired_at else None,
    }


def activity_json(activity):
    return {"points": activity["points"], "spend": format_cents(activity["spend_cents"]),
            "nights": activity["nights"], "stays": activity["stays"], "bills": activity["bills"]}


@view_config(route_name="api.tiers", request_method="GET", require_csrf=False, renderer="json")
def list_tiers(request):
    authenticate(request, "cards.read")
    settings = request.lps_settings.tiers
    return {"model": settings.model, "window": settings.window,
            "tiers": [tier_json(tier, full=True) for tier in tiers.load_tiers(request.dbsession)]}


@view_config(route_name="api.member_tier", request_method="GET", require_csrf=False, renderer="json")
def member_tier(request):
    authenticate(request, "cards.read")
    member_id = read_path(request).id
    return member_tier_json(tiers.member_tier_status(request.dbsession, request.lps_settings, member_id))


def member_tier_json(status):
    """A member's tier status (lps_core.tiers.services.member_tier_status) as the MemberTier schema
    shows it; the website's API answers the same."""
    floor, next_tier = status["floor"], status["next"]
    return {
        "member_id": status["member_id"],
        "status": status["status"],
        "tier": tier_json(status["tier"], full=True),
        "since": isoformat(status["since"]) if status["since"] else None,
        "floor": {"tier": floor["tier"].code, "expires_at": isoformat(floor["expires_at"]), "active": floor["active"]}
        if floor else None,
        "window": {"kind": status["window"]["kind"], "from": status["window"]["from"].isoformat(),
                   "until": status["window"]["until"].isoformat()},
        "activity": activity_json(status["activity"]),
        "next_tier": {
            "tier": tier_json(next_tier["tier"]),
            "needs": {("spend" if counter == "spend_cents" else counter):
                      (format_cents(left) if counter == "spend_cents" else left)
                      for counter, left in next_tier["needs"].items()},
            "mode": next_tier["mode"],
            "progress": next_tier["progress"],
        } if next_tier else None,
    }


@view_config(route_name="api.member_tier_purchase", request_method="POST", require_csrf=False, renderer="json")
def purchase_tier(request):
    outlet = authenticate(request, "members")
    member_id = read_path(request).id
    body = read_body(request)
    result = tiers.purchase_tier(request.dbsession, request.plugins, member_id, body.tier,
                                 f"tier_purchase:{member_id}:{body.purchase_no}")
    request.response.status = 200 if result.replayed else 201
    return {"member_id": member_id, "tier": result.tier, "points": result.points,
            "points_balance": result.points_balance, "outlet": outlet.code, "replayed": result.replayed}


@view_config(route_name="api.member_tier_floor", request_method="POST", require_csrf=False, renderer="json")
def set_tier_floor(request):
    outlet = authenticate(request, "tiers.manage")
    member_id = read_path(request).id
    body = read_body(request)
    home_outlet_id = request.dbsession.scalar(select(Member.enrolled_outlet_id).where(Member.id == member_id))
    require_member_write(api_key_scope(outlet), member_id, home_outlet_id)
    result = tiers.set_tier_floor(request.dbsession, request.plugins, member_id, body.tier,
                                  body.expires_at)
    return {"member_id": member_id, "floor": {"tier": result.floor_tier, "expires_at": isoformat(result.expires_at)},
            "tier": result.change.new_tier if result.change else None, "raised": result.change is not None}


# --- The programme's tiers as configuration ------------------------------------------------------

def _audit(request, action, code, before=None, after=None):
    actor, outlet_id = api_actor(request)
    record(request.dbsession, actor=actor, action=action, target=("tier", code) if code else None, before=before,
           after=after,
           address=request.client_addr, outlet_id=outlet_id)


def _one_tier_json(db, code):
    tier = configuration.tier_by_code(db, code)
    return tier_json(tiers.tier_spec(tier), full=True, retired_at=tier.retired_at)


@view_config(route_name="api.tiers", request_method="POST", require_csrf=False, renderer="json")
def create_tier(request):
    authenticate(request, "tiers.manage")
    body = read_body(request)
    after = configuration.create_tier(request.dbsession, body)
    _audit(request, "tier.create", body.code, after=after)
    request.response.status = 201
    return _one_tier_json(request.dbsession, body.code)


@view_config(route_name="api.tier", request_method="GET", require_csrf=False, renderer="json")
def get_tier(request):
    authenticate(request, "cards.read")
    return _one_tier_json(request.dbsession, read_path(request).code)


@view_config(route_name="api.tier", request_method="PATCH", require_csrf=False, renderer="json")
def change_tier(request):
    authenticate(request, "tiers.manage")
    code = read_path(request).code
    body = read_body(request)
    before, after = configuration.update_tier(request.dbsession, code, body)
    _audit(request, "tier.edit", code, before=before, after=after)
    return _one_tier_json(request.dbsession, code)


@view_config(route_name="api.tier_order", request_method="POST", require_csrf=False, renderer="json")
def reorder_tiers(request):
    authenticate(request, "tiers.manage")
    body = read_body(request)
    before, after = configuration.reorder_tiers(request.dbsession, body.codes)
    _audit(request, "tier.reorder", None, before={"order": before}, after={"order": after})
    return {"tiers": [tier_json(tier) for tier in tiers.load_tiers(request.dbsession)]}


@view_config(route_name="api.tier_retire", request_method="POST", require_csrf=False, renderer="json")
def retire_tier(request):
    authenticate(request, "tiers.manage")
    code = read_path(request).code
    result = configuration.retire_tier(request.dbsession, request.plugins, code)
    _audit(request, "tier.retire", code, before={"retired": False},
           after={"retired": True, "moved_to": result.moved_to, "members_moved": result.members_moved,
                  "floors_moved": result.floors_moved})
    return {"code": result.code, "retired_at": isoformat(result.retired_at), "moved_to": result.moved_to,
            "members_moved": result.members_moved, "floors_moved": result.floors_moved}
