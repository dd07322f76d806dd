"""Tier API views: the programme's tiers and benefits (and their configuration: create, change,
reorder, retire, each audited), a member's tier and progress, buying a higher tier with points, and
staff floors. Thin: parse and validate, call a service, shape JSON."""
from pyramid.view import view_config
from sqlalchemy import select

from lps_core.api.operations import read_body, read_path
from lps_core.api.request import authenticate
from lps_core.audit.api_writes import api_actor
from lps_core.audit.services import record
from lps_core.members.models import Member
from lps_core.money import format_cents
from lps_core.operators.access import api_key_scope, require_member_write
from lps_core.tiers import configuration
from lps_core.tiers import services as tiers
from lps_core.timeutil import isoformat


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
    status = tiers.member_tier_status(request.dbsession, request.lps_settings, member_id)
    floor, next_tier = status["floor"], status["next"]
    return {
        "member_id": member_id,
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
