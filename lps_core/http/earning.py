"""Configuring earning over the API (scope rules.manage) and previewing a bill (scope transactions).
Thin: read the input through the operation's schema, call a service, shape JSON."""
from pyramid.view import view_config

from lps_core.earning.preview import preview_bill
from lps_core.earning.promotions import get_promotion, list_promotions, save_promotion
from lps_core.earning.rules import add_rule_version, outlet_id_of, rules_of_outlet
from lps_core.earning.schemas import OutletPath, PreviewIn, PromotionChangeIn, PromotionIn, PromotionPath, RuleIn
from lps_core.http.document import answer, problems
from lps_core.http.operations import Operation, read_body, read_path
from lps_core.http.request import authenticate


def includeme(config):
    config.add_route("api.outlet_rules", "/api/v1/outlets/{code}/rules")
    config.add_route("api.promotions", "/api/v1/promotions")
    config.add_route("api.promotion", "/api/v1/promotions/{code}")
    config.add_route("api.preview", "/api/v1/preview")
    config.add_api_operations(OPERATIONS, SCHEMAS)
    config.scan(__name__)


DECIMAL = {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$", "example": "380.00"}
TIMESTAMP = {"type": "string", "format": "date-time"}
CODES = {"type": "array", "items": {"type": "string"}, "nullable": True}

OPERATIONS = [
    Operation("api.outlet_rules", "get", "getRules", "An outlet's earning-rule versions",
              {"200": answer("Every version, oldest first", "RuleVersions"), **problems(401, 403, 404)},
              scope="rules.manage", path=OutletPath),
    Operation("api.outlet_rules", "post", "addRule",
              "Add a rule version; left-out fields keep the current values",
              {"201": answer("The new version", "Rule"), **problems(401, 403, 404, 409, 413, 422)},
              scope="rules.manage", body=RuleIn, path=OutletPath,
              description="`formula_params` are checked by the formula plugin: what it refuses answers 422 "
                          "naming formula_params. A version taking effect before the latest one answers 409."),
    Operation("api.promotions", "get", "listPromotions", "Every promotion",
              {"200": answer("Promotions", "PromotionList"), **problems(401, 403)}, scope="rules.manage"),
    Operation("api.promotions", "post", "createPromotion", "Create a promotion",
              {"201": answer("Created", "Promotion"), **problems(401, 403, 409, 413, 422)},
              scope="rules.manage", body=PromotionIn,
              description="`params` are checked against the kind, and the window, the exclusive group, the "
                          "cap period and the prize against the other fields: what does not fit (a prize coupon "
                          "type that does not exist or is switched off) answers 422 naming the field."),
    Operation("api.promotion", "get", "getPromotion", "One promotion",
              {"200": answer("The promotion", "Promotion"), **problems(401, 403, 404)},
              scope="rules.manage", path=PromotionPath),
    Operation("api.promotion", "patch", "changePromotion", "Change or end a promotion",
              {"200": answer("Changed", "Promotion"), **problems(401, 403, 404, 413, 422)},
              scope="rules.manage", body=PromotionChangeIn, path=PromotionPath),
    Operation("api.preview", "post", "preview",
              "Points a hypothetical bill would earn, with the breakdown; posts nothing",
              {"200": answer("The computation", "Preview"), **problems(401, 403, 404, 409, 413, 422)},
              scope="transactions", body=PreviewIn),
]

SCHEMAS = {
    "Band": {"type": "object", "properties": {
        "from": DECIMAL, "to": {**DECIMAL, "nullable": True, "description": "Exclusive; null: no upper end"},
        "multiplier": {"type": "string", "example": "1.5"}}},
    "Rule": {"type": "object", "properties": {
        "id": {"type": "integer"}, "version": {"type": "integer"}, "effective_from": TIMESTAMP,
        "formula": {"type": "string", "example": "base_rate"}, "formula_params": {"type": "object"},
        "bands": {"type": "array", "items": {"$ref": "#/components/schemas/Band"}},
        "band_basis": {"type": "string", "enum": ["bill", "period_spend"]},
        "band_period": {"type": "string", "enum": ["month", "year"], "nullable": True},
        "rounding": {"type": "string", "enum": ["floor", "half_up", "half_even"]},
        "max_points_per_bill": {"type": "integer", "nullable": True}}},
    "RuleVersions": {"type": "object", "properties": {
        "outlet": {"type": "string"}, "versions": {"type": "array", "items": {"$ref": "#/components/schemas/Rule"}}}},
    "Promotion": {"type": "object", "properties": {
        "id": {"type": "integer"}, "code": {"type": "string"}, "name": {"type": "string"},
        "kind": {"type": "string", "enum": ["multiplier", "bonus", "sku_bonus", "first_stay", "enrolment",
                                            "referral", "coupon"]},
        "params": {"type": "object", "example": {"multiplier": "2"}},
        "starts_at": TIMESTAMP, "ends_at": TIMESTAMP,
        "outlets": CODES, "categories": CODES, "skus": CODES, "tiers": CODES, "card_types": CODES,
        "weekdays": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 7}, "nullable": True},
        "stacking": {"type": "string", "enum": ["stack", "best_of", "exclusive"]},
        "exclusive_group": {"type": "string", "nullable": True},
        "priority": {"type": "integer"},
        "cap_per_bill": {"type": "integer", "nullable": True},
        "cap_per_member": {"type": "integer", "nullable": True},
        "cap_period": {"type": "string", "enum": ["day", "month", "year", "promotion"], "nullable": True},
        "prize_coupon_type": {"type": "string", "nullable": True,
                              "description": "The coupon type won on each bill the promotion applies to"},
        "prize_count": {"type": "integer", "nullable": True, "minimum": 1, "maximum": 100}}},
    "PromotionList": {"type": "object", "properties": {
        "promotions": {"type": "array", "items": {"$ref": "#/components/schemas/Promotion"}}}},
    "Preview": {"type": "object", "properties": {
        "outlet": {"type": "string"}, "rule_version": {"type": "integer"}, "points": {"type": "integer"},
        "breakdown": {"type": "array", "items": {"$ref": "#/components/schemas/BreakdownStep"}},
        "qualifying": {"type": "object"}}},
}


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
