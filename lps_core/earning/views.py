"""Configuring earning over the API (scope rules.manage) and previewing a bill (scope transactions)."""
from pyramid.view import view_config
from sqlalchemy import select

from lps_core.api.request import authenticate, json_body
from lps_core.cards.models import CardType
from lps_core.cards.services import get_card
from lps_core.earning.formula import BillInput
from lps_core.earning.pipeline import MemberContext, NoFacts, compute_points
from lps_core.earning.programme import MemberFacts
from lps_core.earning.promotions import clean_promotion, get_promotion, list_promotions, save_promotion
from lps_core.earning.rules import add_rule_version, clean_rule, outlet_id_of, rules_of_outlet
from lps_core.earning.services import clean_earn_request, member_context
from lps_core.errors import ValidationFailed
from lps_core.members.models import Tier
from lps_core.timeutil import utcnow


@view_config(route_name="api.outlet_rules", request_method="GET", require_csrf=False, renderer="json")
def outlet_rules(request):
    authenticate(request, "rules.manage")
    outlet_id = outlet_id_of(request.dbsession, request.matchdict["code"])
    return {"outlet": request.matchdict["code"],
            "versions": [rule.as_json() for rule in rules_of_outlet(request.dbsession, outlet_id)]}


@view_config(route_name="api.outlet_rules", request_method="POST", require_csrf=False, renderer="json")
def add_outlet_rule(request):
    """A new version; fields left out keep the current version's values."""
    authenticate(request, "rules.manage")
    db = request.dbsession
    outlet_id = outlet_id_of(db, request.matchdict["code"])
    versions = rules_of_outlet(db, outlet_id)
    clean = clean_rule(request.registry["lps.plugins"], json_body(request),
                       partial_of=versions[-1] if versions else None)
    rule = add_rule_version(db, outlet_id, clean)
    request.registry["lps.programme"].rules.forget(outlet_id)
    request.response.status = 201
    return rule.as_json()


@view_config(route_name="api.promotions", request_method="GET", require_csrf=False, renderer="json")
def promotions(request):
    authenticate(request, "rules.manage")
    return {"promotions": [p.as_json() for p in list_promotions(request.dbsession)]}


@view_config(route_name="api.promotions", request_method="POST", require_csrf=False, renderer="json")
def create_promotion(request):
    authenticate(request, "rules.manage")
    promotion = save_promotion(request.dbsession, clean_promotion(json_body(request)))
    request.registry["lps.programme"].promotions.forget()
    request.response.status = 201
    return promotion.as_json()


@view_config(route_name="api.promotion", request_method="GET", require_csrf=False, renderer="json")
def promotion(request):
    authenticate(request, "rules.manage")
    return get_promotion(request.dbsession, request.matchdict["code"]).as_json()


@view_config(route_name="api.promotion", request_method="PATCH", require_csrf=False, renderer="json")
def change_promotion(request):
    """Change or end a promotion (e.g. {"active": false} or a new ends_at). Points already given stay."""
    authenticate(request, "rules.manage")
    existing = get_promotion(request.dbsession, request.matchdict["code"])
    body = json_body(request)
    if "code" in body and body["code"] != existing.code:
        raise ValidationFailed("a promotion's code cannot change", {"code": "cannot change"})
    promotion = save_promotion(request.dbsession, clean_promotion(body, existing=existing), existing.id)
    request.registry["lps.programme"].promotions.forget()
    return promotion.as_json()


@view_config(route_name="api.preview", request_method="POST", require_csrf=False, renderer="json")
def preview(request):
    """Points for a hypothetical bill, computed exactly as earning would, without posting anything.

    Body: the transaction fields (card_no optional, bill_no optional) plus `outlet` (default: the
    key's outlet) and, without a card, `tier` and `card_type` to try."""
    outlet = authenticate(request, "transactions")
    db = request.dbsession
    programme = request.registry["lps.programme"]
    body = json_body(request)
    extra = {name: body.pop(name) for name in ("outlet", "tier", "card_type", "card_no") if name in body}
    # The bill is validated as a real one would be; it needs a bill and card number only to be posted.
    earn_request = clean_earn_request({"bill_no": "preview", "card_no": "preview", **body})
    card_no = extra.get("card_no")
    outlet_code = extra.get("outlet", outlet.code)
    if not isinstance(outlet_code, str):
        raise ValidationFailed("outlet must be an outlet code", {"outlet": "must be text"})
    outlet_id = outlet_id_of(db, outlet_code)
    facts = NoFacts()
    if card_no is not None:
        card = get_card(db, card_no)
        member = member_context(card)
        facts = MemberFacts(db, programme, card.member_id)
    else:
        member = _hypothetical_member(db, extra.get("tier"), extra.get("card_type"))
    occurred_at = earn_request.occurred_at or utcnow()
    rule = programme.rules.rule_at(db, outlet_id, occurred_at)
    bill = BillInput(outlet_code, earn_request.bill_no, earn_request.amount_cents, occurred_at, earn_request.items,
                     member.tier_code, member.card_type_code)
    computed = compute_points(request.registry["lps.plugins"], rule, bill, member, programme.promotions.active(db),
                              facts, programme.timezone)
    return {"outlet": outlet_code, "rule_version": rule.version, "points": computed.points,
            "breakdown": computed.breakdown, "qualifying": computed.qualifying}


def _hypothetical_member(db, tier_code, card_type_code) -> MemberContext:
    tier = card_type = None
    if tier_code is not None:
        tier = db.execute(select(Tier.code, Tier.multiplier).where(Tier.code == tier_code)).one_or_none()
        if tier is None:
            raise ValidationFailed(f"tier {tier_code!r} does not exist", {"tier": "no such tier"})
    if card_type_code is not None:
        card_type = db.execute(select(CardType.code, CardType.points_multiplier)
                               .where(CardType.code == card_type_code)).one_or_none()
        if card_type is None:
            raise ValidationFailed(f"card type {card_type_code!r} does not exist", {"card_type": "no such card type"})
    return MemberContext(None, tier.code if tier else None, tier.multiplier if tier else 1,
                         card_type.code if card_type else None, card_type.points_multiplier if card_type else 1)
