"""Configuring earning over the API (scope rules.manage) and previewing a bill (scope transactions).
Thin: read the input through the operation's schema, call a service, shape JSON."""
from pyramid.view import view_config

from lps_core.api.operations import read_body, read_path
from lps_core.api.request import authenticate
from lps_core.earning.preview import preview_bill
from lps_core.earning.promotions import get_promotion, list_promotions, save_promotion
from lps_core.earning.rules import add_rule_version, outlet_id_of, rules_of_outlet


@view_config(route_name="api.outlet_rules", request_method="GET", require_csrf=False, renderer="json")
def outlet_rules(request):
    authenticate(request, "rules.manage")
    code = read_path(request).code
    outlet_id = outlet_id_of(request.dbsession, code)
    return {"outlet": code, "versions": [rule.as_json() for rule in rules_of_outlet(request.dbsession, outlet_id)]}


@view_config(route_name="api.outlet_rules", request_method="POST", require_csrf=False, renderer="json")
def add_outlet_rule(request):
    """A new version; fields left out keep the current version's values."""
    authenticate(request, "rules.manage")
    db = request.dbsession
    outlet_id = outlet_id_of(db, read_path(request).code)
    body = read_body(request)
    versions = rules_of_outlet(db, outlet_id)
    rule = add_rule_version(db, outlet_id, body.clean(request.plugins,
                                                      partial_of=versions[-1] if versions else None))
    request.programme.rules.forget(outlet_id)
    request.response.status = 201
    return rule.as_json()


@view_config(route_name="api.promotions", request_method="GET", require_csrf=False, renderer="json")
def promotions(request):
    authenticate(request, "rules.manage")
    return {"promotions": [p.as_json() for p in list_promotions(request.dbsession)]}


@view_config(route_name="api.promotions", request_method="POST", require_csrf=False, renderer="json")
def create_promotion(request):
    authenticate(request, "rules.manage")
    clean = read_body(request).values(kinds=request.plugins.promotion_kinds)
    promotion = save_promotion(request.dbsession, clean)
    request.programme.promotions.forget()
    request.response.status = 201
    return promotion.as_json()


@view_config(route_name="api.promotion", request_method="GET", require_csrf=False, renderer="json")
def promotion(request):
    authenticate(request, "rules.manage")
    return get_promotion(request.dbsession, read_path(request).code).as_json()


@view_config(route_name="api.promotion", request_method="PATCH", require_csrf=False, renderer="json")
def change_promotion(request):
    """Change or end a promotion (e.g. {"active": false} or a new ends_at). Points already given stay."""
    authenticate(request, "rules.manage")
    existing = get_promotion(request.dbsession, read_path(request).code)
    clean = read_body(request).values(existing, kinds=request.plugins.promotion_kinds)
    promotion = save_promotion(request.dbsession, clean, existing.id)
    request.programme.promotions.forget()
    return promotion.as_json()


@view_config(route_name="api.preview", request_method="POST", require_csrf=False, renderer="json")
def preview(request):
    """Points for a hypothetical bill, computed exactly as earning would, without posting anything."""
    outlet = authenticate(request, "transactions")
    body = read_body(request)
    result = preview_bill(request.dbsession, request.plugins, request.programme,
                          body.outlet or outlet.code, body.earn_request(), card_no=body.card_no, tier=body.tier,
                          card_type=body.card_type)
    return {"outlet": result.outlet, "rule_version": result.rule_version, "points": result.points,
            "breakdown": result.breakdown, "qualifying": result.qualifying}
