"""Rewards API views: the catalogue (scope rewards.manage to change it) and redemptions at the desk
(scope rewards). Thin: parse and validate every field at once, call a service, shape JSON."""
import re

from pyramid.view import view_config
from sqlalchemy import select

from lps_core.api.request import authenticate, int_param, json_body
from lps_core.cards.services import get_card
from lps_core.errors import Unprocessable, ValidationFailed
from lps_core.members.models import Tier
from lps_core.money import format_cents, parse_amount
from lps_core.rewards import services as rewards
from lps_core.rewards.models import CATEGORIES
from lps_core.timeutil import isoformat, parse_timestamp, utcnow

CODE = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
MAX_QUANTITY = 99
MAX_VOUCHER_DAYS = 3650
MAX_STOCK = 10**9
COLLECTIONS = ("now", "later")


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


def redemption_json(view):
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
    }
    if view.points_balance is not None:
        body["points_balance"] = view.points_balance
    return body


def _ratio(request):
    return request.registry["lps.rewards.ratio"]


# --- The catalogue --------------------------------------------------------------------------------

@view_config(route_name="api.rewards", request_method="GET", require_csrf=False, renderer="json")
def list_rewards(request):
    authenticate(request, "rewards")
    include_all = request.params.get("all") in ("1", "true")
    if include_all:
        authenticate(request, "rewards.manage")
    category = request.params.get("category")
    if category is not None and category not in CATEGORIES:
        raise ValidationFailed(f"category must be one of {', '.join(CATEGORIES)}",
                               {"category": f"must be one of {', '.join(CATEGORIES)}"})
    found = rewards.list_rewards(request.dbsession, category=category, include_unavailable=include_all)
    return {"points_per_currency_unit": str(_ratio(request)),
            "rewards": [reward_json(reward, _ratio(request)) for reward in found]}


@view_config(route_name="api.rewards", request_method="POST", require_csrf=False, renderer="json")
def create_reward(request):
    authenticate(request, "rewards.manage")
    body = json_body(request)
    code, values = clean_reward(request.dbsession, body, creating=True)
    reward = rewards.create_reward(request.dbsession, code, values)
    request.response.status = 201
    return reward_json(reward, _ratio(request))


@view_config(route_name="api.reward", request_method="GET", require_csrf=False, renderer="json")
def show_reward(request):
    authenticate(request, "rewards")
    return reward_json(rewards.get_reward(request.dbsession, request.matchdict["code"]), _ratio(request))


@view_config(route_name="api.reward", request_method="PUT", require_csrf=False, renderer="json")
def change_reward(request):
    authenticate(request, "rewards.manage")
    _, values = clean_reward(request.dbsession, json_body(request), creating=False)
    reward = rewards.update_reward(request.dbsession, request.matchdict["code"], values)
    return reward_json(reward, _ratio(request))


@view_config(route_name="api.reward_stock", request_method="POST", require_csrf=False, renderer="json")
def restock_reward(request):
    authenticate(request, "rewards.manage")
    body = json_body(request)
    errors = _unknown(body, ("add",))
    add = body.get("add")
    if not _is_int(add) or not 1 <= add <= MAX_STOCK:
        errors["add"] = f"must be an integer from 1 to {MAX_STOCK}"
    if errors:
        raise ValidationFailed("the restock has invalid fields", errors)
    reward = rewards.restock(request.dbsession, request.matchdict["code"], add)
    return reward_json(reward, _ratio(request))


def clean_reward(db, body, *, creating) -> tuple[str | None, dict]:
    """The code (on create) and the reward fields present in the body; every bad field named at once."""
    known = ("code", "name", "category", "cost", "points_price", "stock", "available_from", "available_to",
             "allowed_tiers", "active", "voucher_valid_days")
    errors = _unknown(body, known if creating else known[1:])
    required = ("code", "name", "category", "cost") if creating else ()
    for name in required:
        if body.get(name) is None:
            errors[name] = "is required"
    values = {}
    code = body.get("code")
    if creating and code is not None and (not isinstance(code, str) or not CODE.match(code)):
        errors["code"] = "must be 1 to 32 letters, digits, '.', '_' or '-'"
    if body.get("name") is not None:
        name = body["name"]
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > 200:
            errors["name"] = "must be text of 1 to 200 characters"
        else:
            values["name"] = name.strip()
    elif "name" in body:
        errors["name"] = "must not be null"
    if "category" in body and body["category"] not in CATEGORIES:
        errors.setdefault("category", f"must be one of {', '.join(CATEGORIES)}")
    elif body.get("category") is not None:
        values["category"] = body["category"]
    if body.get("cost") is not None:
        try:
            values["cost_cents"] = parse_amount(body["cost"], allow_zero=True)
        except ValueError as exc:
            errors["cost"] = str(exc)
    elif "cost" in body:
        errors["cost"] = "must not be null"
    for name, minimum, maximum in (("points_price", 1, 10**12), ("stock", 0, MAX_STOCK),
                                   ("voucher_valid_days", 1, MAX_VOUCHER_DAYS)):
        if name in body:
            value = body[name]
            if value is not None and (not _is_int(value) or not minimum <= value <= maximum):
                errors[name] = f"must be an integer from {minimum} to {maximum}, or null"
            else:
                values[name] = value
    for name in ("available_from", "available_to"):
        if name in body:
            try:
                values[name] = parse_timestamp(body[name]) if body[name] is not None else None
            except ValueError as exc:
                errors[name] = str(exc)
    if "active" in body:
        if not isinstance(body["active"], bool):
            errors["active"] = "must be true or false"
        else:
            values["active"] = body["active"]
    if "allowed_tiers" in body:
        tiers = body["allowed_tiers"]
        if tiers is not None and (not isinstance(tiers, list) or not tiers
                                  or not all(isinstance(tier, str) for tier in tiers)):
            errors["allowed_tiers"] = "must be a non-empty list of tier codes, or null for every tier"
        else:
            values["allowed_tiers"] = sorted(set(tiers)) if tiers is not None else None
    if errors:
        raise ValidationFailed("the reward has invalid fields", errors)
    if values.get("allowed_tiers"):
        known_tiers = set(db.scalars(select(Tier.code)))
        unknown = [tier for tier in values["allowed_tiers"] if tier not in known_tiers]
        if unknown:
            raise Unprocessable(f"no such tier: {', '.join(unknown)}", {"allowed_tiers": f"no such tier: {', '.join(unknown)}"})
    return code, values


# --- Redemptions ----------------------------------------------------------------------------------

@view_config(route_name="api.redemptions", request_method="POST", require_csrf=False, renderer="json")
def redeem(request):
    outlet = authenticate(request, "rewards")
    redeem_request = clean_redeem_request(json_body(request))
    view = rewards.redeem(request.dbsession, outlet, redeem_request, _ratio(request))
    request.response.status = 200 if view.replayed else 201
    return {**redemption_json(view), "replayed": view.replayed}


@view_config(route_name="api.redemption", request_method="GET", require_csrf=False, renderer="json")
def show_redemption(request):
    outlet = authenticate(request, "rewards")
    return redemption_json(rewards.get_redemption(request.dbsession, request.matchdict["no"], outlets=[outlet.id]))


@view_config(route_name="api.redemption_collect", request_method="POST", require_csrf=False, renderer="json")
def collect_redemption(request):
    outlet = authenticate(request, "rewards")
    errors = _unknown(json_body(request, optional=True), ())
    if errors:
        raise ValidationFailed("collecting takes no fields", errors)
    return redemption_json(rewards.collect(request.dbsession, request.matchdict["no"], outlets=[outlet.id]))


@view_config(route_name="api.redemption_cancel", request_method="POST", require_csrf=False, renderer="json")
def cancel_redemption(request):
    outlet = authenticate(request, "rewards")
    body = json_body(request)
    errors = _unknown(body, ("reason", "force"))
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip() or len(reason.strip()) > 500:
        errors["reason"] = "is required: text of 1 to 500 characters"
    force = body.get("force", False)
    if not isinstance(force, bool):
        errors["force"] = "must be true or false"
    if errors:
        raise ValidationFailed("the cancellation has invalid fields", errors)
    view = rewards.cancel(request.dbsession, request.matchdict["no"], reason.strip(), outlets=[outlet.id], force=force)
    return redemption_json(view)


@view_config(route_name="api.card_redemptions", request_method="GET", require_csrf=False, renderer="json")
def card_redemptions(request):
    authenticate(request, "rewards")
    card = get_card(request.dbsession, request.matchdict["card_no"])
    page = int_param(request.params.get("page"), "page", default=1)
    per_page = int_param(request.params.get("per_page"), "per_page", maximum=200, default=50)
    total, views = rewards.member_redemptions(request.dbsession, card.member_id, page=page, per_page=per_page) \
        if card.member_id is not None else (0, [])
    return {"card_no": card.card_no, "page": page, "per_page": per_page, "total": total,
            "redemptions": [redemption_json(view) for view in views]}


def clean_redeem_request(body) -> rewards.RedeemRequest:
    errors = _unknown(body, ("card_no", "reward", "quantity", "request_no", "collection"))
    for name, max_length in (("card_no", 40), ("reward", 32), ("request_no", 64)):
        value = body.get(name)
        if not isinstance(value, str) or not value.strip():
            errors[name] = "is required"
        elif len(value.strip()) > max_length:
            errors[name] = f"must be at most {max_length} characters"
    quantity = body.get("quantity", 1)
    if not _is_int(quantity) or not 1 <= quantity <= MAX_QUANTITY:
        errors["quantity"] = f"must be an integer from 1 to {MAX_QUANTITY}"
    collection = body.get("collection", "now")
    if collection not in COLLECTIONS:
        errors["collection"] = "must be now (collected at the desk) or later (awaiting pick-up)"
    if errors:
        raise ValidationFailed("the redemption has invalid fields", errors)
    return rewards.RedeemRequest(body["card_no"].strip(), body["reward"].strip(), quantity,
                                 body["request_no"].strip(), collection == "now")


def _unknown(body, known) -> dict:
    return {name: "is not a known field" for name in sorted(set(body) - set(known))}


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
