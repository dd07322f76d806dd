"""Rewards API views: the catalogue (scope rewards.manage to change it) and redemptions at the desk
(scope rewards). Thin: read the input through the operation's schema, call a service, shape JSON."""
from pyramid.view import view_config
from sqlalchemy import select

from lps_core.api.operations import read_body, read_path, read_query
from lps_core.api.request import authenticate
from lps_core.cards.services import get_card
from lps_core.errors import Unprocessable
from lps_core.members.models import Tier
from lps_core.money import format_cents
from lps_core.rewards import services as rewards
from lps_core.timeutil import isoformat, utcnow


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


def check_tiers(db, values: dict):
    """An allowed tier must exist (the schema cannot know the programme's tiers): 422 otherwise."""
    if values.get("allowed_tiers"):
        known_tiers = set(db.scalars(select(Tier.code)))
        unknown = [tier for tier in values["allowed_tiers"] if tier not in known_tiers]
        if unknown:
            raise Unprocessable(f"no such tier: {', '.join(unknown)}",
                                {"allowed_tiers": f"no such tier: {', '.join(unknown)}"})
    return values


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
    reward = rewards.create_reward(request.dbsession, body.code, check_tiers(request.dbsession, body.values()))
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
    values = check_tiers(request.dbsession, read_body(request).values())
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
