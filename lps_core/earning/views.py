"""Configuring earning over the API (scope rules.manage) and previewing a bill (scope transactions)."""
from pyramid.view import view_config

from lps_core.api.request import authenticate, json_body
from lps_core.earning.preview import preview_bill
from lps_core.earning.promotions import clean_promotion, get_promotion, list_promotions, save_promotion
from lps_core.earning.rules import add_rule_version, clean_rule, outlet_id_of, rules_of_outlet
from lps_core.earning.services import clean_earn_request
from lps_core.errors import ValidationFailed


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
    body = json_body(request)
    extra = {name: body.pop(name) for name in ("outlet", "tier", "card_type", "card_no") if name in body}
    # The bill is validated as a real one would be; it needs a bill and card number only to be posted.
    earn_request = clean_earn_request({"bill_no": "preview", "card_no": "preview", **body})
    result = preview_bill(request.dbsession, request.registry["lps.plugins"], request.registry["lps.programme"],
                          extra.get("outlet", outlet.code), earn_request, card_no=extra.get("card_no"),
                          tier=extra.get("tier"), card_type=extra.get("card_type"))
    return {"outlet": result.outlet, "rule_version": result.rule_version, "points": result.points,
            "breakdown": result.breakdown, "qualifying": result.qualifying}
