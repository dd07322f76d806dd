"""Rewards at the desk: the catalogue, redeeming a reward for a member (collected now or picked up
later), the member's redemptions with collect and cancel; and managing the catalogue (create,
edit, restock). Thin views over lps_core.rewards.services, every write audited."""
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import func, or_, select

from lps_core.cashier.lookup import look_up
from lps_core.errors import LpsError
from lps_core.operators.permissions import Permission
from lps_core.outlets.models import Outlet
from lps_core.rewards import services as rewards
from lps_core.rewards.models import CATEGORIES, Reward
from lps_core.rewards.schemas import CancellationIn, RedemptionIn, RestockIn, RewardChangeIn, RewardIn
from lps_core.rewards.services import check_tiers
from lps_core.screens.desk.forms import new_reference, reward_body, whole_number
from lps_core.screens.desk.outlets import context_of
from lps_core.screens.shared import audit, chosen_outlet, dgettext, flash, outlets_in_scope
from lps_core.screens.shell.lists import paginate
from lps_core.screens.shell.security import outlet_scope
from lps_core.timeutil import utcnow
from lps_core.validation import validate

DESK_PAGE = "lps_core.screens.desk:templates/rewards.pt"
MANAGE_PAGE = "lps_core.screens.desk:templates/rewards_manage.pt"
EDIT_PAGE = "lps_core.screens.desk:templates/reward_edit.pt"


def ratio(request):
    return request.lps_settings.reward_points_per_currency_unit


def catalogue(request, *, include_inactive=False, extra_params=None):
    """One page of the catalogue, searched by name or code and category, sorted, paginated."""
    search = {"q": request.params.get("q", "").strip(), "category": request.params.get("category", "")}
    query = select(Reward)
    if not include_inactive:
        query = query.where(Reward.active.is_(True))
    if search["q"]:
        text = search["q"].lower()
        query = query.where(or_(func.lower(Reward.name).contains(text, autoescape=True),
                                func.lower(Reward.code).contains(text, autoescape=True)))
    if search["category"] in CATEGORIES:
        query = query.where(Reward.category == search["category"])
    # Points price: the override, else the cost through the ratio (kept in integers for sorting).
    points = func.coalesce(Reward.points_price * 10_000, Reward.cost_cents * int(ratio(request) * 100))
    sorts = {"code": Reward.code, "name": Reward.name, "category": Reward.category, "points": points,
             "stock": Reward.stock}
    page = paginate(request.dbsession, request, query, sorts, "name", params={**search, **(extra_params or {})})
    return page, search


def reward_row(reward, request) -> dict:
    return {"reward": reward, "points": rewards.points_price(reward, ratio(request)),
            "available": rewards.is_available(reward, utcnow())}


# --- The desk ---------------------------------------------------------------------------------------

@view_config(route_name="rewards.desk", request_method="GET", renderer=DESK_PAGE, permission=Permission.REWARDS_REDEEM)
def rewards_desk(request):
    return desk_page(request, chosen_outlet(request))


def desk_page(request, outlet, *, card_no=None, errors=None, failed_reward=None) -> dict:
    card_no = (card_no if card_no is not None else request.params.get("card_no", "")).strip()
    page, search = catalogue(request, extra_params={"outlet": outlet.code if outlet else None, "card_no": card_no})
    answer = {"outlet": outlet, "outlets": outlets_in_scope(request), "card_no": card_no, "card": None,
              "page": page, "search": search, "rows": [reward_row(row[0], request) for row in page.items],
              "categories": CATEGORIES, "redemptions": [], "errors": errors or {}, "failed_reward": failed_reward,
              "request_no": new_reference("RD", request.programme.timezone), "may_manage": request.has_permission(Permission.REWARDS_MANAGE)}
    if outlet is None or not card_no:
        return answer
    try:
        matches = look_up(request.dbsession, outlet.code, utcnow(), card_no=card_no,
                          tz=request.programme.timezone)
    except LpsError as exc:
        answer["errors"] = {**answer["errors"], "card_no": exc.fields.get("card_no", exc.message)}
        request.response.status = 400
        return answer
    if not matches:
        answer["errors"] = {**answer["errors"],
                            "card_no": request.localizer.translate(dgettext("lps_cashier", "No card found."))}
        return answer
    answer["card"] = matches[0]
    if matches[0]["member"] is not None:
        answer["redemptions"] = rewards.member_redemptions(request.dbsession, matches[0]["member"]["id"])[1]
    return answer


def _back_to_desk(request, outlet, card_no):
    return HTTPSeeOther(request.route_url("rewards.desk", _query={"outlet": outlet.code, "card_no": card_no}))


@view_config(route_name="rewards.redeem", request_method="POST", renderer=DESK_PAGE,
             permission=Permission.REWARDS_REDEEM)
def redeem(request):
    outlet = chosen_outlet(request)
    if outlet is None:
        return HTTPSeeOther(request.route_url("rewards.desk"))
    params = request.POST
    card_no = params.get("card_no", "").strip()
    body = {"card_no": card_no, "reward": params.get("reward", ""), "request_no": params.get("request_no", ""),
            "quantity": whole_number(params.get("quantity")) or 1, "collection": params.get("collection", "now")}
    db = request.dbsession
    try:
        made = rewards.redeem(db, context_of(outlet), validate(RedemptionIn, body).redeem_request(), ratio(request))
    except LpsError as exc:
        request.tm.doom()
        request.response.status = 400
        return desk_page(request, outlet, card_no=card_no, errors={"redeem": exc.fields or {"": exc.message}},
                         failed_reward=body["reward"])
    if made.replayed:
        flash(request, dgettext("lps_cashier", "This redemption was already made."))
    else:
        audit(request, "redemption.create", ("redemption", made.number),
              after={"card_no": made.card_no, "reward": made.reward_code, "quantity": made.quantity,
                     "points": made.points, "status": made.status, "points_balance": made.points_balance},
              outlet_id=outlet.id)
        flash(request, dgettext("lps_cashier", "The reward is redeemed."))
    return _back_to_desk(request, outlet, card_no)


def _redemption_in_scope(request):
    """The redemption, if made at an outlet of the operator's scope: 404 alike for another outlet's and an unknown one."""
    try:
        redemption = rewards.get_redemption(request.dbsession, request.matchdict["no"], outlets=outlet_scope(request))
    except LpsError:
        raise HTTPNotFound("no such redemption") from None
    return redemption, request.dbsession.scalar(select(Outlet).where(Outlet.code == redemption.outlet_code))


def _redemption_failed(request, outlet, card_no, number, exc):
    request.tm.doom()
    request.response.status = 400
    return desk_page(request, outlet, card_no=card_no,
                     errors={"redemption": {number: "; ".join(exc.fields.values()) or exc.message}})


@view_config(route_name="rewards.collect", request_method="POST", renderer=DESK_PAGE,
             permission=Permission.REWARDS_REDEEM)
def collect(request):
    before, outlet = _redemption_in_scope(request)
    try:
        after = rewards.collect(request.dbsession, before.number, outlets=outlet_scope(request))
    except LpsError as exc:
        return _redemption_failed(request, outlet, before.card_no, before.number, exc)
    audit(request, "redemption.collect", ("redemption", after.number),
          before={"status": before.status}, after={"status": after.status},
          outlet_id=outlet.id)
    flash(request, dgettext("lps_cashier", "The reward is collected."))
    return _back_to_desk(request, outlet, before.card_no)


@view_config(route_name="rewards.cancel", request_method="POST", renderer=DESK_PAGE,
             permission=Permission.REWARDS_REDEEM)
def cancel(request):
    before, outlet = _redemption_in_scope(request)
    reason = request.POST.get("reason", "")
    try:
        cancellation = validate(CancellationIn, {"reason": reason, "force": request.POST.get("force") == "on"})
        reason = cancellation.reason
        after = rewards.cancel(request.dbsession, before.number, reason, outlets=outlet_scope(request),
                               force=cancellation.force)
    except LpsError as exc:
        return _redemption_failed(request, outlet, before.card_no, before.number, exc)
    audit(request, "redemption.cancel", ("redemption", after.number),
          before={"status": before.status}, after={"status": after.status, "reason": reason,
                                                   "points_back": after.points, "points_balance": after.points_balance},
          outlet_id=outlet.id)
    flash(request, dgettext("lps_cashier", "The redemption is cancelled and its points are back."))
    return _back_to_desk(request, outlet, before.card_no)


# --- Managing the catalogue ---------------------------------------------------------------------------

def reward_values(reward) -> dict:
    return {name: getattr(reward, name) for name in rewards.REWARD_FIELDS}


def form_of(reward, fmt) -> dict:
    """The edit form's values from a reward; times in the programme's time zone (`fmt`, the page's
    Formatter), with their offset."""
    return {"code": reward.code, "name": reward.name, "category": reward.category,
            "cost": f"{reward.cost_cents // 100}.{reward.cost_cents % 100:02d}",
            "points_price": reward.points_price or "", "stock": "" if reward.stock is None else reward.stock,
            "voucher_valid_days": reward.voucher_valid_days or "", "active": reward.active,
            "available_from": fmt.form_moment(reward.available_from),
            "available_to": fmt.form_moment(reward.available_to),
            "allowed_tiers": ", ".join(reward.allowed_tiers or [])}


def manage_page(request, *, errors=None, form=None) -> dict:
    page, search = catalogue(request, include_inactive=True)
    return {"page": page, "search": search, "rows": [reward_row(row[0], request) for row in page.items],
            "categories": CATEGORIES, "errors": errors or {},
            "form": form or {"active": True, "category": "item"}}


@view_config(route_name="rewards.manage", request_method="GET", renderer=MANAGE_PAGE,
             permission=Permission.REWARDS_MANAGE)
def manage(request):
    return manage_page(request)


@view_config(route_name="rewards.manage", request_method="POST", renderer=MANAGE_PAGE,
             permission=Permission.REWARDS_MANAGE)
def create(request):
    db = request.dbsession
    try:
        new = validate(RewardIn, reward_body(request.POST, creating=True), message="the reward has invalid fields")
        reward = rewards.create_reward(db, new.code, check_tiers(db, new.values()))
    except LpsError as exc:
        request.tm.doom()
        request.response.status = 400
        return manage_page(request, errors=exc.fields or {"": exc.message},
                           form={**request.POST, "active": request.POST.get("active") == "on"})
    audit(request, "reward.create", ("reward", reward.code),
          after=reward_values(reward))
    flash(request, dgettext("lps_cashier", "The reward is added to the catalogue."))
    return HTTPSeeOther(request.route_url("rewards.edit", code=reward.code))


def _reward(request):
    reward = request.dbsession.scalar(select(Reward).where(Reward.code == request.matchdict["code"]))
    if reward is None:
        raise HTTPNotFound("no such reward")
    return reward


@view_config(route_name="rewards.edit", request_method="GET", renderer=EDIT_PAGE,
             permission=Permission.REWARDS_MANAGE)
def edit(request):
    reward = _reward(request)
    return {"reward": reward_row(reward, request), "form": form_of(reward, request.fmt), "errors": {}, "categories": CATEGORIES}


@view_config(route_name="rewards.edit", request_method="POST", renderer=EDIT_PAGE,
             permission=Permission.REWARDS_MANAGE)
def save(request):
    reward = _reward(request)
    db = request.dbsession
    before = reward_values(reward)
    try:
        change = validate(RewardChangeIn, reward_body(request.POST, creating=False),
                          message="the reward has invalid fields")
        reward = rewards.update_reward(db, reward.code, check_tiers(db, change.values()))
    except LpsError as exc:
        request.tm.doom()
        request.response.status = 400
        form = {**request.POST, "code": reward.code, "active": request.POST.get("active") == "on"}
        return {"reward": reward_row(reward, request), "form": form, "errors": exc.fields or {"": exc.message},
                "categories": CATEGORIES}
    after = reward_values(reward)
    changed = [name for name in before if before[name] != after[name]]
    audit(request, "reward.edit", ("reward", reward.code),
          before={name: before[name] for name in changed}, after={name: after[name] for name in changed})
    flash(request, dgettext("lps_cashier", "The reward is saved."))
    return HTTPSeeOther(request.route_url("rewards.edit", code=reward.code))


@view_config(route_name="rewards.restock", request_method="POST", renderer=EDIT_PAGE,
             permission=Permission.REWARDS_MANAGE)
def restock(request):
    reward = _reward(request)
    db = request.dbsession
    before = reward.stock
    try:
        add = validate(RestockIn, {"add": whole_number(request.POST.get("add"))}).add
        reward = rewards.restock(db, reward.code, add)
    except LpsError as exc:
        request.tm.doom()
        request.response.status = 400
        return {"reward": reward_row(reward, request), "form": form_of(reward, request.fmt), "errors": exc.fields,
                "categories": CATEGORIES, "add": request.POST.get("add", "")}
    audit(request, "reward.restock", ("reward", reward.code),
          before={"stock": before}, after={"stock": reward.stock})
    flash(request, dgettext("lps_cashier", "The stock is updated."))
    return HTTPSeeOther(request.route_url("rewards.edit", code=reward.code))
