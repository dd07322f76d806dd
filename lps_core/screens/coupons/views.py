"""Coupon screens. Views read the form into lps_core.coupons.schemas, call lps_core.coupons and
redirect; a refused form is shown again with the message beside each field and the error's HTTP
status. Every save and issue is audited."""
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import select

from lps_core.cards.models import Card
from lps_core.cards.services import normalize_card_no
from lps_core.components import ISettings
from lps_core.coupons import services
from lps_core.coupons.models import KINDS, ON_REFUND
from lps_core.coupons.schemas import CouponTypeIn
from lps_core.errors import LpsError, Unprocessable
from lps_core.money import format_cents
from lps_core.operators.permissions import Permission
from lps_core.screens.shared import audit, dgettext, flash, form_errors
from lps_core.timeutil import utcnow
from lps_core.validation import validate

TEMPLATES = "lps_core.screens.coupons:templates/"
MANAGE = Permission.COUPONS_MANAGE
TEXT_FIELDS = ("code", "name", "kind", "value", "percent", "sku", "multiplier", "valid_from", "valid_to",
               "min_spend", "on_refund")

# What each refund rule means, as the list and the form show it.
REFUND_LABELS = {"return": dgettext("lps_config", "the use comes back"),
                 "return_unexpired": dgettext("lps_config", "the use comes back while the coupon is valid"),
                 "forfeit": dgettext("lps_config", "the use is forfeited")}


def _type_from_form(params) -> dict:
    """The form as the API's body: blank fields left out, numbers and lists as JSON has them."""
    raw = {name: params.get(name, "").strip() for name in TEXT_FIELDS if params.get(name, "").strip()}
    for name in ("valid_days", "uses"):
        if params.get(name, "").strip():
            text = params[name].strip()
            raw[name] = int(text) if text.isdigit() else text
    raw["outlets"] = [part.strip() for part in params.get("outlets", "").split(",") if part.strip()]
    raw["active"] = params.get("active") == "on"
    return raw


def _page(request, form, errors, issue_form=None, issue_errors=None):
    return {"types": services.list_types(request.dbsession), "kinds": KINDS, "refund_rules": ON_REFUND,
            "refund_labels": REFUND_LABELS, "form": form, "errors": errors,
            "issue_form": issue_form or {}, "issue_errors": issue_errors or {}, "money": format_cents, "number": services.number_text}


@view_config(route_name="coupons", renderer=TEMPLATES + "coupons.pt", permission=MANAGE)
def coupons_page(request):
    if request.method != "POST":
        return _page(request, {"uses": "1", "active": True, "kind": "amount", "on_refund": "return"}, {})
    raw = _type_from_form(request.POST)
    db = request.dbsession
    try:
        body = validate(CouponTypeIn, raw, message="the form has invalid fields")
        coupon_type, created = services.save_type(db, body.spec())
    except LpsError as exc:
        request.response.status = exc.status
        return _page(request, {**raw, "outlets": ", ".join(raw["outlets"])},
                     form_errors(exc.fields or {}) or {"form": exc.message})
    request.programme.promotions.forget()  # promotions' prizes carry the type's terms
    audit(request, "coupon_type.save", ("coupon_type", coupon_type.id), after=body.model_dump(mode="json"))
    flash(request, dgettext("lps_config", "Coupon type saved"))
    return HTTPSeeOther(request.route_url("coupons"))


@view_config(route_name="coupons.issue", request_method="POST", renderer=TEMPLATES + "coupons.pt",
             permission=MANAGE)
def issue(request):
    """One coupon of a type to the holder of a card; the same type, card and note issue it once."""
    form = {name: request.POST.get(name, "").strip() for name in ("coupon_type", "card_no", "note")}
    db = request.dbsession
    try:
        card_no = normalize_card_no(form["card_no"], "card_no")
        member_id = db.scalar(select(Card.member_id).where(Card.card_no == card_no))
        if member_id is None:
            raise Unprocessable(f"card {card_no} has no member", {"card_no": "no member holds this card"})
        coupon = services.issue_one(db, form["coupon_type"], member_id, source="staff",
                                    source_ref=form["note"][:100], now=utcnow(),
                                    tz=request.registry.getUtility(ISettings).timezone)
    except LpsError as exc:
        request.response.status = exc.status
        return _page(request, {"uses": "1", "active": True, "kind": "amount", "on_refund": "return"}, {}, form,
                     form_errors(exc.fields or {}) or {"form": exc.message})
    audit(request, "coupon.issue", ("coupon", coupon.id),
          after={"code": coupon.code, "coupon_type": form["coupon_type"], "member_id": member_id})
    flash(request, dgettext("lps_config", "Coupon ${code} issued", mapping={"code": coupon.code}))
    return HTTPSeeOther(request.route_url("coupons"))
