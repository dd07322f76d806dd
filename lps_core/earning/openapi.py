"""The earning configuration API's operations (rule versions, promotions) and the preview, with the
schemas of their answers."""
from lps_core.api.document import answer, problems
from lps_core.api.operations import Operation
from lps_core.earning.schemas import OutletPath, PreviewIn, PromotionChangeIn, PromotionIn, PromotionPath, RuleIn

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
              description="`params` are checked against the kind, and the window, the exclusive group and the "
                          "cap period against the other fields: what does not fit answers 422 naming the field."),
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
                                            "referral"]},
        "params": {"type": "object", "example": {"multiplier": "2"}},
        "starts_at": TIMESTAMP, "ends_at": TIMESTAMP,
        "outlets": CODES, "categories": CODES, "skus": CODES, "tiers": CODES, "card_types": CODES,
        "weekdays": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 7}, "nullable": True},
        "stacking": {"type": "string", "enum": ["stack", "best_of", "exclusive"]},
        "exclusive_group": {"type": "string", "nullable": True},
        "priority": {"type": "integer"},
        "cap_per_bill": {"type": "integer", "nullable": True},
        "cap_per_member": {"type": "integer", "nullable": True},
        "cap_period": {"type": "string", "enum": ["day", "month", "year", "promotion"], "nullable": True}}},
    "PromotionList": {"type": "object", "properties": {
        "promotions": {"type": "array", "items": {"$ref": "#/components/schemas/Promotion"}}}},
    "Preview": {"type": "object", "properties": {
        "outlet": {"type": "string"}, "rule_version": {"type": "integer"}, "points": {"type": "integer"},
        "breakdown": {"type": "array", "items": {"$ref": "#/components/schemas/BreakdownStep"}},
        "qualifying": {"type": "object"}}},
}
