"""Rewards API views: the catalogue (scope rewards.manage to change it) and redemptions at the desk
(scope rewards). Thin: read the input through the operation's schema, call a service, shape JSON."""
from pyramid.view import view_config

from lps_core.cards.services import get_card
from lps_core.http.document import answer, problems
from lps_core.http.operations import Operation, read_body, read_path, read_query
from lps_core.http.request import authenticate
from lps_core.money import format_cents
from lps_core.rewards import services as rewards
from lps_core.rewards.schemas import (
    CancellationIn,
    CardRedemptionsPath,
    CollectionIn,
    RedemptionIn,
    RedemptionPageQuery,
    RedemptionPath,
    RestockIn,
    RewardChangeIn,
    RewardIn,
    RewardListQuery,
    RewardPath,
)
from lps_core.timeutil import isoformat, utcnow


def includeme(config):
    config.add_route("api.rewards", "/api/v1/rewards")
    config.add_route("api.reward", "/api/v1/rewards/{code}")
    config.add_route("api.reward_stock", "/api/v1/rewards/{code}/stock")
    config.add_route("api.redemptions", "/api/v1/redemptions")
    config.add_route("api.redemption", "/api/v1/redemptions/{no}")
    config.add_route("api.redemption_collect", "/api/v1/redemptions/{no}/collect")
    config.add_route("api.redemption_cancel", "/api/v1/redemptions/{no}/cancel")
    config.add_route("api.card_redemptions", "/api/v1/cards/{card_no}/redemptions")
    config.add_api_operations(OPERATIONS, SCHEMAS)
    config.scan(__name__)


DECIMAL = {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$", "example": "380.00"}
TIMESTAMP = {"type": "string", "format": "date-time", "nullable": True}
CATEGORY = {"type": "string", "enum": ["item", "room_night", "fnb_voucher"]}
REWARD_FIELDS = {
    "name": {"type": "string"},
    "category": CATEGORY,
    "cost": DECIMAL,
    "stock": {"type": "integer", "nullable": True, "description": "null = unlimited"},
    "available_from": TIMESTAMP,
    "available_to": TIMESTAMP,
    "allowed_tiers": {"type": "array", "items": {"type": "string"}, "nullable": True,
                      "description": "Tier codes that may redeem; null = every tier"},
    "active": {"type": "boolean"},
    "voucher_valid_days": {"type": "integer", "nullable": True},
}

OPERATIONS = [
    Operation("api.rewards", "get", "listRewards", "The rewards catalogue with points prices",
              {"200": answer("The catalogue", "RewardCatalogue"), **problems(401, 403)},
              scope="rewards", query=RewardListQuery,
              description="Only active rewards inside their window, unless all=1 (scope rewards.manage too)."),
    Operation("api.rewards", "post", "createReward", "Add a reward",
              {"201": answer("Added", "Reward"), **problems(401, 403, 409, 413, 422)},
              scope="rewards.manage", body=RewardIn),
    Operation("api.reward", "get", "getReward", "One reward",
              {"200": answer("The reward", "Reward"), **problems(401, 403, 404)},
              scope="rewards", path=RewardPath),
    Operation("api.reward", "put", "updateReward", "Change a reward; fields left out keep their values",
              {"200": answer("Changed", "Reward"), **problems(401, 403, 404, 413, 422)},
              scope="rewards.manage", body=RewardChangeIn, path=RewardPath),
    Operation("api.reward_stock", "post", "restockReward", "Restock a reward",
              {"200": answer("Restocked", "Reward"), **problems(401, 403, 404, 409, 413, 422)},
              scope="rewards.manage", body=RestockIn, path=RewardPath),
    Operation("api.redemptions", "post", "redeemReward", "Redeem points for a reward",
              {"201": answer("Redeemed", "Redemption"),
               "200": answer("Replay of an earlier identical request", "Redemption"),
               **problems(401, 403, 404, 409, 413, 422)},
              scope="rewards", body=RedemptionIn,
              description="Idempotent on (outlet, request_no): the same body again answers 200 with the first "
                          "result; another body with the same request_no answers 409. Too few points, no stock "
                          "left: 409."),
    Operation("api.redemption", "get", "getRedemption", "One redemption of the key's outlet",
              {"200": answer("The redemption", "Redemption"), **problems(401, 403, 404)},
              scope="rewards", path=RedemptionPath),
    Operation("api.redemption_collect", "post", "collectRedemption", "The guest picks the reward up",
              {"200": answer("Collected", "Redemption"), **problems(401, 403, 404, 409, 413)},
              scope="rewards", body=CollectionIn, body_required=False, path=RedemptionPath),
    Operation("api.redemption_cancel", "post", "cancelRedemption", "Cancel a redemption: points and stock go back",
              {"200": answer("Cancelled", "Redemption"), **problems(401, 403, 404, 409, 413)},
              scope="rewards", body=CancellationIn, path=RedemptionPath),
    Operation("api.card_redemptions", "get", "listCardRedemptions", "A member's redemptions, newest first",
              {"200": answer("A page of redemptions", "RedemptionPage"), **problems(401, 403, 404)},
              scope="rewards", path=CardRedemptionsPath, query=RedemptionPageQuery),
]

SCHEMAS = {
    "Reward": {"type": "object", "properties": {
        "code": {"type": "string"}, **REWARD_FIELDS,
        "points_price": {"type": "integer", "description": "The price in points now in force"},
        "points_price_override": {"type": "integer", "nullable": True},
        "available": {"type": "boolean", "description": "Active and inside its window now"},
    }},
    "RewardCatalogue": {"type": "object", "properties": {
        "points_per_currency_unit": {"type": "string", "example": "100"},
        "rewards": {"type": "array", "items": {"$ref": "#/components/schemas/Reward"}},
    }},
    "Redemption": {"type": "object", "properties": {
        "no": {"type": "string", "example": "R00000042"},
        "outlet": {"type": "string"},
        "request_no": {"type": "string"},
        "card_no": {"type": "string"},
        "reward": {"type": "object", "properties": {"code": {"type": "string"}, "name": {"type": "string"},
                                                    "category": CATEGORY}},
        "quantity": {"type": "integer"},
        "points": {"type": "integer"},
        "status": {"type": "string", "enum": ["collected", "awaiting_pickup", "cancelled"]},
        "voucher_expires_at": TIMESTAMP,
        "redeemed_at": {"type": "string", "format": "date-time"},
        "collected_at": TIMESTAMP,
        "cancelled_at": TIMESTAMP,
        "cancel_reason": {"type": "string", "nullable": True},
        "points_balance": {"type": "integer", "description": "After redeeming or cancelling (not on GET)"},
        "consumed": {"type": "array", "items": {"$ref": "#/components/schemas/ConsumedLot"},
                     "description": "The lots the redemption's debit took its points from, oldest-expiring "
                                    "first; a cancellation gives them back to the same lots"},
        "replayed": {"type": "boolean"},
    }},
    "ConsumedLot": {"type": "object", "properties": {
        "lot_id": {"type": "integer"},
        "earn_entry_id": {"type": "integer", "description": "The ledger entry that created the lot"},
        "bill_no": {"type": "string", "nullable": True, "description": "The bill that earned it, if a bill did"},
        "points": {"type": "integer", "description": "Points taken from the lot"},
        "lot_expires_at": {"type": "string", "format": "date-time"}}},
    "RedemptionPage": {"type": "object", "properties": {
        "card_no": {"type": "string"}, "page": {"type": "integer"}, "per_page": {"type": "integer"},
        "total": {"type": "integer"},
        "redemptions": {"type": "array", "items": {"$ref": "#/components/schemas/Redemption"}},
    }},
}


def reward_json(reward, ratio):
    now = utcnow()
    return {
        "code": reward.code,
        "name": reward.name,
        "category": reward.category,
        "cost": format_cents(reward.cost_cents),
        "points_price": rewards.points_price(reward, ratio),
        "points_price_override": reward.points_price,
        "stock": reward.stock,
        "available_from": isoformat(reward.available_from) if reward.available_from else None,
        "available_to": isoformat(reward.available_to) if reward.available_to else None,
        "allowed_tiers": reward.allowed_tiers,
        "active": reward.active,
        "available": rewards.is_available(reward, now),
        "voucher_valid_days": reward.voucher_valid_days,
    }


def redemption_json(view, consumed):
    """A redemption's answer; `consumed`: its lots (rewards.consumed_lots) by redemption id."""
    body = {
        "no": view.number,
        "outlet": view.outlet_code,
        "request_no": view.request_no,
        "card_no": view.card_no,
        "reward": {"code": view.reward_code, "name": view.reward_name, "category": view.category},
        "quantity": view.quantity,
        "points": view.points,
        "status": view.status,
        "voucher_expires_at": isoformat(view.voucher_expires_at) if view.voucher_expires_at else None,
        "redeemed_at": isoformat(view.redeemed_at),
        "collected_at": isoformat(view.collected_at) if view.collected_at else None,
        "cancelled_at": isoformat(view.cancelled_at) if view.cancelled_at else None,
        "cancel_reason": view.cancel_reason,
        "consumed": [{"lot_id": lot.lot_id, "earn_entry_id": lot.earn_entry_id, "bill_no": lot.bill_no,
                      "points": lot.points, "lot_expires_at": isoformat(lot.lot_expires_at)}
                     for lot in consumed.get(view.id, ())],
    }
    if view.points_balance is not None:
        body["points_balance"] = view.points_balance
    return body


def _ratio(request):
    return request.lps_settings.reward_points_per_currency_unit


def _answer(request, view) -> dict:
    return redemption_json(view, rewards.consumed_lots(request.dbsession, [view.id]))


# --- The catalogue --------------------------------------------------------------------------------

@view_config(route_name="api.rewards", request_method="GET", require_csrf=False, renderer="json")
def list_rewards(request):
    authenticate(request, "rewards")
    query = read_query(request)
    if query.all is not None:
        authenticate(request, "rewards.manage")
    found = rewards.list_rewards(request.dbsession, category=query.category, include_unavailable=query.all is not None)
    return {"points_per_currency_unit": str(_ratio(request)),
            "rewards": [reward_json(reward, _ratio(request)) for reward in found]}


@view_config(route_name="api.rewards", request_method="POST", require_csrf=False, renderer="json")
def create_reward(request):
    authenticate(request, "rewards.manage")
    body = read_body(request)
    reward = rewards.create_reward(request.dbsession, body.code, rewards.check_tiers(request.dbsession, body.values()))
    request.response.status = 201
    return reward_json(reward, _ratio(request))


@view_config(route_name="api.reward", request_method="GET", require_csrf=False, renderer="json")
def show_reward(request):
    authenticate(request, "rewards")
    return reward_json(rewards.get_reward(request.dbsession, read_path(request).code), _ratio(request))


@view_config(route_name="api.reward", request_method="PUT", require_csrf=False, renderer="json")
def change_reward(request):
    authenticate(request, "rewards.manage")
    code = read_path(request).code
    values = rewards.check_tiers(request.dbsession, read_body(request).values())
    return reward_json(rewards.update_reward(request.dbsession, code, values), _ratio(request))


@view_config(route_name="api.reward_stock", request_method="POST", require_csrf=False, renderer="json")
def restock_reward(request):
    authenticate(request, "rewards.manage")
    code = read_path(request).code
    reward = rewards.restock(request.dbsession, code, read_body(request).add)
    return reward_json(reward, _ratio(request))


# --- Redemptions ----------------------------------------------------------------------------------

@view_config(route_name="api.redemptions", request_method="POST", require_csrf=False, renderer="json")
def redeem(request):
    outlet = authenticate(request, "rewards")
    redeem_request = read_body(request).redeem_request()
    view = rewards.redeem(request.dbsession, outlet, redeem_request, _ratio(request))
    request.response.status = 200 if view.replayed else 201
    return {**_answer(request, view), "replayed": view.replayed}


@view_config(route_name="api.redemption", request_method="GET", require_csrf=False, renderer="json")
def show_redemption(request):
    outlet = authenticate(request, "rewards")
    return _answer(request, rewards.get_redemption(request.dbsession, read_path(request).no, outlets=[outlet.id]))


@view_config(route_name="api.redemption_collect", request_method="POST", require_csrf=False, renderer="json")
def collect_redemption(request):
    outlet = authenticate(request, "rewards")
    number = read_path(request).no
    read_body(request)
    return _answer(request, rewards.collect(request.dbsession, number, outlets=[outlet.id]))


@view_config(route_name="api.redemption_cancel", request_method="POST", require_csrf=False, renderer="json")
def cancel_redemption(request):
    outlet = authenticate(request, "rewards")
    number = read_path(request).no
    body = read_body(request)
    view = rewards.cancel(request.dbsession, number, body.reason, outlets=[outlet.id], force=body.force)
    return _answer(request, view)


@view_config(route_name="api.card_redemptions", request_method="GET", require_csrf=False, renderer="json")
def card_redemptions(request):
    authenticate(request, "rewards")
    card = get_card(request.dbsession, read_path(request).card_no)
    query = read_query(request)
    total, views = rewards.member_redemptions(request.dbsession, card.member_id, page=query.page,
                                              per_page=query.per_page) \
        if card.member_id is not None else (0, [])
    consumed = rewards.consumed_lots(request.dbsession, [view.id for view in views])
    return {"card_no": card.card_no, "page": query.page, "per_page": query.per_page, "total": total,
            "redemptions": [redemption_json(view, consumed) for view in views]}
