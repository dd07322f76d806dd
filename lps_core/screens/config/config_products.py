"""Programme-wide products: tiers and their benefits, card types, and card number pools. Anyone
with the configuration permission (the card permission for pools) may look; only an operator of
every outlet may change them."""
import json
import re

from pyramid.httpexceptions import HTTPBadRequest, HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import func, or_, select

from lps_core.screens.config.forms import (
    code_list, done, from_local_input, invalid, local_input, require_all_outlets, shown_json, text, whole_or_text,
)
from lps_core.screens.shared import audit, dgettext

from lps_core.cards import types as card_types
from lps_core.cards.models import Card, CardType
from lps_core.cards.schemas import CardTypeChangeIn, CardTypeIn
from lps_core.cards.services import generate_pool
from lps_core.errors import LpsError, NotFound
from lps_core.members.models import Member, Tier
from lps_core.outlets.models import Property
from lps_core.operators.permissions import Permission
from lps_core.screens.shell.lists import paginate
from lps_core.tiers.configuration import (
    create_tier, reorder_tiers, retire_tier, tier_values, tiers_in_use, update_tier,
)
from lps_core.tiers.schemas import TierChangeIn, TierIn, TierOrderIn
from lps_core.tiers.services import QUALIFICATION_KEYS
from lps_core.validation import check_depth, validate

MAX_POOL_BATCH = 10_000
FLAGS = ("stored_value", "anonymous", "pin_required", "active")
COBRAND_AND_MEMBERSHIP = ("partner", "serial_from", "serial_to", "membership_fee", "membership_months",
                          "membership_reminder_days")
INVALID = "the card type has invalid fields"


# --- Tiers ---------------------------------------------------------------------------------------------

TIER_INVALID = "the tier has invalid fields"
TIER_FORM_FIELDS = ("name", "multiplier", "discount_rate", "qualification_mode", "purchase_points",
                    *(f"q_{key}" for key in QUALIFICATION_KEYS))


@view_config(route_name="config.tiers", renderer="lps_core.screens.config:templates/tiers.pt",
             permission=Permission.CONFIG_MANAGE)
def list_tiers(request):
    """The tiers in use in their order (searchable, sortable), each movable up or down, then the
    retired ones."""
    search = {"q": request.params.get("q", "").strip()}
    query = select(Tier).where(Tier.retired_at.is_(None))
    if search["q"]:
        query = query.where(or_(Tier.code.ilike(f"%{search['q']}%"), Tier.name.ilike(f"%{search['q']}%")))
    page = paginate(request.dbsession, request, query, {"rank": Tier.rank, "code": Tier.code, "name": Tier.name},
                    "rank", params=search)
    retired = request.dbsession.scalars(select(Tier).where(Tier.retired_at.is_not(None))
                                        .order_by(Tier.retired_at.desc(), Tier.code)).all()
    return {"page": page, "search": search, "retired": retired,
            "in_use": [tier.code for tier in tiers_in_use(request.dbsession)]}


@view_config(route_name="config.tier_order", request_method="POST", permission=Permission.CONFIG_MANAGE)
def move_tier(request):
    """Move one tier a place up or down the ladder (the order of the list of tiers)."""
    require_all_outlets(request)
    db = request.dbsession
    order = [tier.code for tier in tiers_in_use(db)]
    code, direction = request.POST.get("code", ""), request.POST.get("move", "")
    if code not in order or direction not in ("up", "down"):
        raise HTTPBadRequest("name a tier in use and move it up or down")
    index = order.index(code)
    other = index + 1 if direction == "up" else index - 1
    if 0 <= other < len(order):
        order[index], order[other] = order[other], order[index]
        before, after = reorder_tiers(db, validate(TierOrderIn, {"codes": order}).codes)
        audit(request, "tier.reorder", None, before={"order": before}, after={"order": after})
    return done(request, dgettext("lps_config", "Tier order saved."), "config.tiers")


@view_config(route_name="config.tier_new", renderer="lps_core.screens.config:templates/tier_form.pt",
             permission=Permission.CONFIG_MANAGE)
def new_tier(request):
    require_all_outlets(request)
    db = request.dbsession
    ladder = tiers_in_use(db)
    form = {"code": "", "name": "", "multiplier": "1", "discount_rate": "0", "entitlements": "",
            "qualification_mode": "any", "purchase_points": "", "above": ladder[-1].code if ladder else "",
            **{f"q_{key}": "" for key in QUALIFICATION_KEYS}}
    errors = {}
    if request.method == "POST":
        form, body = _posted_tier(request)
        form["code"], form["above"] = text(request, "code"), text(request, "above")
        body.update({"code": form["code"], **({"above": form["above"]} if form["above"] else {})})
        after = _saved(request, errors, lambda: create_tier(db, validate(TierIn, body, message=TIER_INVALID)))
        if not errors:
            audit(request, "tier.create", ("tier", form["code"]), after=after)
            return done(request, dgettext("lps_config", "Tier created."), "config.tier", code=form["code"])
        invalid(request, errors)
    return {"tier": None, "form": form, "errors": errors, "qualification_keys": QUALIFICATION_KEYS,
            "ladder": ladder, "retiring": None}


@view_config(route_name="config.tier", renderer="lps_core.screens.config:templates/tier_form.pt",
             permission=Permission.CONFIG_MANAGE)
def edit_tier(request):
    db = request.dbsession
    tier = db.scalar(select(Tier).where(Tier.code == request.matchdict["code"]))
    if tier is None:
        raise HTTPNotFound()
    values = tier_values(tier)
    form = {**values, "entitlements": "\n".join(values["entitlements"]), "purchase_points": values["purchase_points"] or "",
            **{f"q_{key}": values["qualification"].get(key, "") for key in QUALIFICATION_KEYS}}
    errors = {}
    if request.method == "POST":
        require_all_outlets(request)
        form, body = _posted_tier(request)
        saved = _saved(request, errors, lambda: update_tier(
            db, tier.code, validate(TierChangeIn, body, message=TIER_INVALID)))
        if not errors:
            audit(request, "tier.edit", ("tier", tier.code), before=saved[0], after=saved[1])
            return done(request, dgettext("lps_config", "Tier saved."), "config.tier", code=tier.code)
        invalid(request, errors)
    return {"tier": tier, "form": form, "errors": errors, "qualification_keys": QUALIFICATION_KEYS,
            "ladder": [], "retiring": _retiring(db, tier)}


@view_config(route_name="config.tier_retire", request_method="POST", permission=Permission.CONFIG_MANAGE)
def retire(request):
    """Retire a tier once staff confirm it; its members and floors move as the tier page said."""
    require_all_outlets(request)
    code = request.matchdict["code"]
    if request.POST.get("confirm") != "1":
        request.session.flash(request.localizer.translate(
            dgettext("lps_config", "Tick the box to confirm that the tier is to be retired.")))
        return HTTPSeeOther(request.route_url("config.tier", code=code))
    try:
        result = retire_tier(request.dbsession, request.plugins, code)
    except NotFound:
        raise HTTPNotFound() from None
    except LpsError as exc:
        request.session.flash(request.localizer.translate(exc.message))
        return HTTPSeeOther(request.route_url("config.tier", code=code))
    audit(request, "tier.retire", ("tier", code), before={"retired": False},
          after={"retired": True, "moved_to": result.moved_to, "members_moved": result.members_moved,
                 "floors_moved": result.floors_moved})
    return done(request, dgettext("lps_config", "Tier ${code} retired: ${count} members moved to ${tier}.",
                                  mapping={"code": code, "count": result.members_moved, "tier": result.moved_to}),
                "config.tiers")


def _posted_tier(request):
    """The tier form as typed, and the body for the tier schema: an empty qualification field is left
    out (all empty: the tier is not reached by activity), an empty price clears it (not for sale)."""
    form = {name: text(request, name) for name in TIER_FORM_FIELDS}
    form["entitlements"] = request.POST.get("entitlements", "")
    qualification = {key: form[f"q_{key}"] if key == "spend" else whole_or_text(form[f"q_{key}"])
                     for key in QUALIFICATION_KEYS if form[f"q_{key}"]}
    body = {"name": form["name"], "multiplier": form["multiplier"], "discount_rate": form["discount_rate"],
            "entitlements": [line.strip() for line in form["entitlements"].splitlines() if line.strip()],
            "qualification": qualification or None,
            "purchase_points": whole_or_text(form["purchase_points"]) if form["purchase_points"] else None}
    if form["qualification_mode"]:
        body["qualification_mode"] = form["qualification_mode"]
    return form, body


def _retiring(db, tier):
    """What retiring the tier would do, for the confirmation on its page; None when it cannot be."""
    if tier.retired_at is not None:
        return None
    ladder = tiers_in_use(db)
    if len(ladder) < 2:
        return None
    index = next(index for index, candidate in enumerate(ladder) if candidate.id == tier.id)
    successor = ladder[index - 1] if index > 0 else ladder[1]
    holders = db.scalar(select(func.count(Member.id)).where(Member.tier_id == tier.id))
    return {"moved_to": successor, "members": holders}


# --- Card types ----------------------------------------------------------------------------------------

@view_config(route_name="config.card_types", renderer="lps_core.screens.config:templates/card_types.pt",
             permission=Permission.CONFIG_MANAGE)
def list_card_types(request):
    search = {"q": request.params.get("q", "").strip()}
    query = select(CardType)
    if search["q"]:
        query = query.where(or_(CardType.code.ilike(f"%{search['q']}%"), CardType.name.ilike(f"%{search['q']}%")))
    page = paginate(request.dbsession, request, query, {"code": CardType.code, "name": CardType.name,
                                                        "prefix": CardType.prefix}, "code", params=search)
    return {"page": page, "search": search, "as_json": card_types.card_type_json}


@view_config(route_name="config.card_type_new", renderer="lps_core.screens.config:templates/card_type_form.pt",
             permission=Permission.CONFIG_MANAGE)
def new_card_type(request):
    require_all_outlets(request)
    form = {"code": "", "name": "", "prefix": "", "points_multiplier": "1", "discount_rate": "0",
            "discount_overrides": "", "deposit_bonuses": "", "initial_uses": "", "uses_outlets": "",
            "credit_limit": "", "credit_warning_ratio": "0.8", "validity_days": "", "valid_from": "", "valid_to": "",
            "stored_value": False, "anonymous": False, "pin_required": False, "active": True,
            **{name: "" for name in COBRAND_AND_MEMBERSHIP}}
    errors = {}
    if request.method == "POST":
        form, body = _posted_card_type(request, errors)
        body["code"] = form["code"]
        card_type = _saved(request, errors, lambda: card_types.create_card_type(
            request.dbsession, validate(CardTypeIn, body, message=INVALID)))
        if not errors:
            audit(request, "card_type.create", ("card_type", card_type.code),
                  after=card_types.card_type_json(card_type))
            return done(request, dgettext("lps_config", "Card type created."), "config.card_type", code=card_type.code)
        invalid(request, errors)
    return {"form": form, "errors": errors, "card_type": None, "partners": _partners(request.dbsession)}


@view_config(route_name="config.card_type", renderer="lps_core.screens.config:templates/card_type_form.pt",
             permission=Permission.CONFIG_MANAGE)
def edit_card_type(request):
    db = request.dbsession
    card_type = db.scalar(select(CardType).where(CardType.code == request.matchdict["code"]))
    if card_type is None:
        raise HTTPNotFound()
    before = card_types.card_type_json(card_type)
    errors = {}
    if request.method == "POST":
        require_all_outlets(request)
        form, body = _posted_card_type(request, errors)
        _saved(request, errors, lambda: card_types.update_card_type(
            db, card_type.code, validate(CardTypeChangeIn, body, message=INVALID)))
        if not errors:
            audit(request, "card_type.edit", ("card_type", card_type.code), before=before,
                  after=card_types.card_type_json(card_type))
            return done(request, dgettext("lps_config", "Card type saved."), "config.card_type", code=card_type.code)
        invalid(request, errors)
        return {"form": form, "errors": errors, "card_type": card_type, "partners": _partners(db)}
    timezone = request.programme.timezone
    form = {**{name: "" if value is None else value for name, value in before.items()},
            "discount_overrides": shown_json(before["discount_overrides"]),
            "deposit_bonuses": shown_json(before["deposit_bonuses"]),
            "uses_outlets": ", ".join(before["uses_outlets"] or ()),
            "valid_from": local_input(card_type.valid_from, timezone), "valid_to": local_input(card_type.valid_to, timezone)}
    return {"form": form, "errors": errors, "card_type": card_type, "partners": _partners(db)}


def _posted_card_type(request, errors):
    """The form as typed, and the body for the card type schema with each field of its type: a field
    left empty is left out when it has a default (or keeps its value), and cleared when it is optional."""
    timezone = request.programme.timezone
    form = {name: text(request, name) for name in (
        "code", "name", "prefix", "points_multiplier", "discount_rate", "discount_overrides", "deposit_bonuses",
        "initial_uses", "uses_outlets", "credit_limit", "credit_warning_ratio", "validity_days", "valid_from",
        "valid_to", *COBRAND_AND_MEMBERSHIP)}
    form.update({flag: request.POST.get(flag) == "1" for flag in FLAGS})
    body = {name: form[name] for name in ("name", "prefix", "points_multiplier", "discount_rate",
                                          "credit_warning_ratio") if form[name]}
    body.update({
        "discount_overrides": _json_list(form, "discount_overrides", errors),
        "deposit_bonuses": _json_list(form, "deposit_bonuses", errors),
        "initial_uses": whole_or_text(form["initial_uses"]), "validity_days": whole_or_text(form["validity_days"]),
        "uses_outlets": code_list(form["uses_outlets"]), "credit_limit": form["credit_limit"] or None,
        "valid_from": from_local_input(form["valid_from"], timezone),
        "valid_to": from_local_input(form["valid_to"], timezone),
        **{flag: form[flag] for flag in FLAGS},
        "partner": form["partner"] or None, "membership_fee": form["membership_fee"] or None,
        **{name: whole_or_text(form[name]) for name in ("serial_from", "serial_to", "membership_months",
                                                        "membership_reminder_days")},
    })
    return form, body


def _partners(db) -> list:
    """The partners a card type may be co-branded with (code and name), for the form's choice."""
    return db.execute(select(Property.code, Property.name).where(Property.kind == "partner")
                      .order_by(Property.code)).all()


def _json_list(form, name, errors) -> list:
    """A field holding a JSON list (empty: none). Numbers are kept as the text typed, so "0.15" and
    0.15 are the same rate, and never pass through a float."""
    raw = form[name]
    if not raw:
        return []
    try:
        check_depth(raw.encode("utf-8", "surrogatepass"))
        return json.loads(raw, parse_float=str, parse_int=str)
    except LpsError as exc:
        errors[name] = exc.fields["body"]
    except ValueError:
        errors[name] = dgettext("lps_config", "must be valid JSON")
    return []


def _saved(request, errors, save):
    """What `save` returns when the schema and the service accept the form; otherwise None, with each
    problem beside its form field ("deposit_bonuses[0].bonus" beside deposit_bonuses)."""
    try:
        return save()
    except LpsError as exc:
        for name, message in exc.fields.items():
            field = re.split(r"[.\[]", name, maxsplit=1)[0]
            errors.setdefault(field, message if field == name else f"{name}: {message}")
    return None


# --- Card number pools ---------------------------------------------------------------------------------

@view_config(route_name="config.pools", renderer="lps_core.screens.config:templates/pools.pt",
             permission=Permission.CARDS_MANAGE)
def card_pools(request):
    """Unissued numbers of a card type (paginated; ?print=1 gives a list for the printer), and a form
    to generate more."""
    db = request.dbsession
    types = db.execute(select(CardType.code, CardType.name).order_by(CardType.code)).all()
    chosen = request.params.get("card_type") or (types[0].code if types else "")
    form = {"card_type": chosen, "count": ""}
    errors = {}
    if request.method == "POST":
        require_all_outlets(request)
        form = {"card_type": text(request, "card_type"), "count": text(request, "count")}
        count = whole_or_text(form["count"])
        if not isinstance(count, int) or not 1 <= count <= MAX_POOL_BATCH:
            errors["count"] = dgettext("lps_config", "must be a whole number from 1 to 10000")
        else:
            try:
                numbers = generate_pool(db, count, card_type_code=form["card_type"])
            except LpsError as exc:
                errors.update(exc.fields)
            else:
                audit(request, "cards.pool_generate", ("card_type", form["card_type"]),
                      after={"count": count, "first": numbers[0], "last": numbers[-1]})
                return done(request, dgettext("lps_config", "Card numbers generated."), "config.pools",
                            _query={"card_type": form["card_type"]})
        invalid(request, errors)
        chosen = form["card_type"]
    query = select(Card.card_no, Card.created_at).join(CardType, CardType.id == Card.card_type_id) \
        .where(Card.status == "unissued", CardType.code == chosen)
    page = paginate(db, request, query, {"card_no": Card.card_no, "created": Card.created_at}, "card_no",
                    params={"card_type": chosen, "print": request.params.get("print")})
    counts = dict(db.execute(select(CardType.code, func.count(Card.id)).join(Card, Card.card_type_id == CardType.id)
                             .where(Card.status == "unissued").group_by(CardType.code)).all())
    return {"types": types, "chosen": chosen, "form": form, "errors": errors, "page": page, "counts": counts,
            "printing": request.params.get("print") == "1"}
