"""Promotions: the list (search, sort, pages), creating and editing one, ending or resuming one;
and the preview box: what a bill of some amount at an outlet earns for a member of a tier, step by
step, computed by the same service as earning. An operator scoped to some outlets may only write
promotions limited to their outlets."""
from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound
from pyramid.view import view_config
from sqlalchemy import or_, select

from lps_core.screens.config.forms import (
    code_list, done, from_local_input, invalid, json_field, local_input, shown_json, text,
    whole_or_text,
)
from lps_core.screens.shared import audit, covers_outlets, dgettext, form_errors, outlets_in_scope

from lps_core.cards.models import CardType
from lps_core.earning.models import Promotion
from lps_core.earning.preview import preview_bill
from lps_core.coupons.models import CouponType
from lps_core.earning.promotions import CAP_PERIODS, LIST_FIELDS, STACKING, clean_promotion, get_promotion, \
    save_promotion
from lps_core.earning.schemas import PreviewIn
from lps_core.errors import LpsError
from lps_core.members.models import Tier
from lps_core.operators.permissions import Permission
from lps_core.screens.shell.lists import paginate
from lps_core.screens.shell.security import require_outlet
from lps_core.validation import validate

SORTS = {"code": Promotion.code, "name": Promotion.name, "starts": Promotion.starts_at, "ends": Promotion.ends_at}
WEEKDAYS = ((1, dgettext("lps_config", "Mon")), (2, dgettext("lps_config", "Tue")), (3, dgettext("lps_config", "Wed")),
            (4, dgettext("lps_config", "Thu")), (5, dgettext("lps_config", "Fri")), (6, dgettext("lps_config", "Sat")),
            (7, dgettext("lps_config", "Sun")))


@view_config(route_name="config.promotions", renderer="lps_core.screens.config:templates/promotions.pt",
             permission=Permission.PROMOTIONS_MANAGE)
def list_promotions(request):
    search = {"q": request.params.get("q", "").strip(), "status": request.params.get("status", "")}
    query = select(Promotion, CouponType.code.label("prize")).outerjoin(
        CouponType, CouponType.id == Promotion.prize_coupon_type_id)
    if search["q"]:
        pattern = f"%{search['q']}%"
        query = query.where(or_(Promotion.code.ilike(pattern), Promotion.name.ilike(pattern)))
    if search["status"] in ("active", "ended"):
        query = query.where(Promotion.active.is_(search["status"] == "active"))
    page = paginate(request.dbsession, request, query, SORTS, "starts", descending=True, params=search)
    return {"page": page, "search": search, "kind_labels": {kind.name: kind.label for kind in _kinds(request)}}


@view_config(route_name="config.promotion_new", renderer="lps_core.screens.config:templates/promotion_form.pt",
             permission=Permission.PROMOTIONS_MANAGE)
def new_promotion(request):
    form = {"code": "", "name": "", "kind": "multiplier", "params": '{"multiplier": "2"}', "starts_at": "",
            "ends_at": "", "weekdays": [], "stacking": "stack", "exclusive_group": "", "priority": "0",
            "cap_per_bill": "", "cap_per_member": "", "cap_period": "", "prize_coupon_type": "",
            "prize_count": "", "active": True, **{name: "" for name in LIST_FIELDS}}
    errors = {}
    if request.method == "POST":
        form, body = _posted(request, errors)
        promotion = _save(request, body, errors)
        if promotion is not None:
            audit(request, "promotion.create", ("promotion", promotion.id), after=promotion.as_json())
            return done(request, dgettext("lps_config", "Promotion created."), "config.promotion", code=promotion.code)
        invalid(request, errors)
    return _form_page(request, form, errors, None)


@view_config(route_name="config.promotion", renderer="lps_core.screens.config:templates/promotion_form.pt",
             permission=Permission.PROMOTIONS_MANAGE)
def edit_promotion(request):
    row = _promotion(request)
    existing = get_promotion(request.dbsession, row.code)
    _require_scope(request, existing.outlets)
    before = {**existing.as_json(), "active": row.active}
    if request.method == "POST":
        errors = {}
        form, body = _posted(request, errors)
        body["code"] = existing.code  # a promotion's code never changes
        promotion = _save(request, body, errors, existing=existing)
        if promotion is not None:
            audit(request, "promotion.edit", ("promotion", promotion.id), before=before,
                  after={**promotion.as_json(), "active": body["active"]})
            return done(request, dgettext("lps_config", "Promotion saved."), "config.promotion", code=existing.code)
        invalid(request, errors)
        return _form_page(request, form, errors, row)
    timezone = request.programme.timezone
    form = {**before, "params": shown_json(existing.params), "starts_at": local_input(existing.starts_at, timezone),
            "ends_at": local_input(existing.ends_at, timezone), "weekdays": list(existing.weekdays or []),
            **{name: ", ".join(getattr(existing, name) or ()) for name in LIST_FIELDS}}
    form = {name: ("" if value is None else value) for name, value in form.items()}
    return _form_page(request, form, {}, row)


@view_config(route_name="config.promotion_active", request_method="POST", permission=Permission.PROMOTIONS_MANAGE)
def set_promotion_active(request):
    """End a promotion now (points already given stay) or resume it."""
    row = _promotion(request)
    existing = get_promotion(request.dbsession, row.code)
    _require_scope(request, existing.outlets)
    wanted = request.POST.get("active")
    if wanted not in ("0", "1"):
        return done(request, dgettext("lps_config", "Choose end or resume."), "config.promotion", code=row.code)
    before = row.active
    save_promotion(request.dbsession, clean_promotion({"active": wanted == "1"}, existing=existing,
                                                      kinds=request.plugins.promotion_kinds), row.id)
    request.programme.promotions.forget()
    audit(request, "promotion.active", ("promotion", row.id), before={"active": before},
          after={"active": wanted == "1"})
    if wanted == "1":
        message = dgettext("lps_config", "Promotion resumed.")
    else:
        message = dgettext("lps_config", "Promotion ended.")
    return done(request, message, "config.promotion", code=row.code)


def _posted(request, errors):
    """The form as typed (to re-fill it) and the promotion body for clean_promotion."""
    timezone = request.programme.timezone
    form = {name: text(request, name) for name in ("code", "name", "kind", "params", "starts_at", "ends_at",
                                                    "stacking", "exclusive_group", "priority", "cap_per_bill",
                                                    "cap_per_member", "cap_period", "prize_coupon_type",
                                                    "prize_count", *LIST_FIELDS)}
    form["weekdays"] = [int(day) for day in request.POST.getall("weekdays") if day.isdigit()]
    form["active"] = request.POST.get("active") == "1"
    body = {"code": form["code"], "name": form["name"], "kind": form["kind"],
            "params": json_field(request, "params", errors, {}),
            "starts_at": from_local_input(form["starts_at"], timezone),
            "ends_at": from_local_input(form["ends_at"], timezone),
            "weekdays": form["weekdays"] or None, "stacking": form["stacking"],
            "exclusive_group": form["exclusive_group"] or None, "priority": whole_or_text(form["priority"]) or 0,
            "cap_per_bill": whole_or_text(form["cap_per_bill"]),
            "cap_per_member": whole_or_text(form["cap_per_member"]),
            "cap_period": form["cap_period"] or None, "prize_coupon_type": form["prize_coupon_type"] or None,
            "prize_count": whole_or_text(form["prize_count"]), "active": form["active"],
            **{name: code_list(form[name]) for name in LIST_FIELDS}}
    return form, body


def _save(request, body, errors, existing=None):
    try:
        clean = clean_promotion(body, existing=existing, kinds=request.plugins.promotion_kinds)
    except LpsError as exc:
        errors.update(form_errors(exc.fields))
        return None
    if not covers_outlets(request, clean["outlets"]):
        errors["outlets"] = dgettext("lps_config", "name only outlets in your scope")
    if errors:
        return None
    try:
        promotion = save_promotion(request.dbsession, clean, existing.id if existing else None)
    except LpsError as exc:
        errors.update(exc.fields)
        return None
    request.programme.promotions.forget()
    return promotion


def _require_scope(request, outlets):
    """An operator of some outlets writes only promotions limited to those outlets."""
    if not covers_outlets(request, outlets):
        raise HTTPForbidden("this promotion covers outlets outside your scope")


def _kinds(request) -> list:
    """The promotion kinds that plugins provide (LPS's own among them), in the order they were registered."""
    return list(request.plugins.promotion_kinds.values())


def _form_page(request, form, errors, row):
    db = request.dbsession
    return {"form": form, "errors": errors, "promotion": row, "kinds": _kinds(request), "stackings": STACKING,
            "cap_periods": CAP_PERIODS, "weekdays": WEEKDAYS, "list_fields": LIST_FIELDS,
            "tiers": db.scalars(select(Tier.code).where(Tier.retired_at.is_(None)).order_by(Tier.rank)).all(),
            "card_types": db.scalars(select(CardType.code).order_by(CardType.code)).all(),
            "coupon_types": db.execute(select(CouponType.code, CouponType.name, CouponType.active)
                                       .order_by(CouponType.code)).all()}


def _promotion(request) -> Promotion:
    row = request.dbsession.scalar(select(Promotion).where(Promotion.code == request.matchdict["code"]))
    if row is None:
        raise HTTPNotFound()
    return row


@view_config(route_name="config.preview", renderer="lps_core.screens.config:templates/preview.pt",
             permission=Permission.PROMOTIONS_MANAGE)
def preview(request):
    """A bill of `amount` at `outlet` for a member of `tier` holding a `card_type` card: the points
    it would earn now, and why. Nothing is posted."""
    db = request.dbsession
    outlets = outlets_in_scope(request, inactive=True)
    form = {name: request.params.get(name, "").strip() for name in ("outlet", "amount", "tier", "card_type")}
    form["outlet"] = form["outlet"] or (outlets[0].code if outlets else "")
    errors, result = {}, None
    if form["amount"]:
        outlet = next((outlet for outlet in outlets if outlet.code == form["outlet"]), None)
        if outlet is None:
            errors["outlet"] = dgettext("lps_config", "choose one of your outlets")
        else:
            require_outlet(request, outlet.id)
            try:
                bill = validate(PreviewIn, {name: value for name, value in form.items() if value})
                result = preview_bill(db, request.plugins, request.programme,
                                      outlet.code, bill.earn_request(), tier=bill.tier, card_type=bill.card_type)
            except LpsError as exc:
                errors.update(exc.fields)
        if errors:
            request.response.status = 400
    return {"form": form, "errors": errors, "result": result, "outlets": outlets,
            "tiers": db.execute(select(Tier.code, Tier.name).where(Tier.retired_at.is_(None)).order_by(Tier.rank)).all(),
            "card_types": db.execute(select(CardType.code, CardType.name).order_by(CardType.code)).all()}
