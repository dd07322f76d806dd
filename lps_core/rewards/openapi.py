"""The OpenAPI description of this feature's /api/v1 routes, merged into lps_core.api.openapi.DOCUMENT."""
from lps_core.api.openapi_parts import CARD_NO, DECIMAL, errors, json_content, path_param

CODE = path_param("code", "Reward code")
NO = path_param("no", "Redemption number, such as R00000042")
TIMESTAMP = {"type": "string", "format": "date-time", "nullable": True}
PAGING = [
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
    {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}},
]
CATEGORY = {"type": "string", "enum": ["item", "room_night", "fnb_voucher"]}
REWARD_FIELDS = {
    "name": {"type": "string", "maxLength": 200},
    "category": CATEGORY,
    "cost": {**DECIMAL, "description": "What the reward costs the hotel; the points price derives from it"},
    "points_price": {"type": "integer", "minimum": 1, "nullable": True,
                     "description": "Overrides the derived price; null derives it again"},
    "stock": {"type": "integer", "minimum": 0, "nullable": True, "description": "null = unlimited"},
    "available_from": TIMESTAMP,
    "available_to": TIMESTAMP,
    "allowed_tiers": {"type": "array", "items": {"type": "string"}, "nullable": True,
                      "description": "Tier codes that may redeem; null = every tier"},
    "active": {"type": "boolean", "default": True},
    "voucher_valid_days": {"type": "integer", "minimum": 1, "maximum": 3650, "nullable": True,
                           "description": "Required for room_night and fnb_voucher: days an issued voucher is valid"},
}

PATHS = {
    "/api/v1/rewards": {
        "get": {
            "summary": "The rewards catalogue with points prices", "operationId": "listRewards",
            "description": "Scope rewards. Only active rewards inside their window, unless all=1 (scope "
                           "rewards.manage).",
            "parameters": [{"name": "category", "in": "query", "schema": CATEGORY},
                           {"name": "all", "in": "query", "schema": {"type": "string", "enum": ["1"]}}],
            "responses": {"200": {"description": "The catalogue", "content": json_content("RewardCatalogue")},
                          **errors(400, 401, 403)},
        },
        "post": {
            "summary": "Add a reward (scope rewards.manage)", "operationId": "createReward",
            "requestBody": {"required": True, "content": json_content("RewardInput")},
            "responses": {"201": {"description": "Added", "content": json_content("Reward")},
                          **errors(400, 401, 403, 409, 413, 422)},
        },
    },
    "/api/v1/rewards/{code}": {
        "get": {
            "summary": "One reward (scope rewards)", "operationId": "getReward", "parameters": [CODE],
            "responses": {"200": {"description": "The reward", "content": json_content("Reward")},
                          **errors(401, 403, 404)},
        },
        "put": {
            "summary": "Change a reward (scope rewards.manage); fields left out keep their values",
            "operationId": "updateReward", "parameters": [CODE],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "properties": REWARD_FIELDS, "additionalProperties": False}}}},
            "responses": {"200": {"description": "Changed", "content": json_content("Reward")},
                          **errors(400, 401, 403, 404, 413, 422)},
        },
    },
    "/api/v1/rewards/{code}/stock": {"post": {
        "summary": "Restock a reward (scope rewards.manage)", "operationId": "restockReward", "parameters": [CODE],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["add"], "properties": {"add": {"type": "integer", "minimum": 1}}}}}},
        "responses": {"200": {"description": "Restocked", "content": json_content("Reward")},
                      **errors(400, 401, 403, 404, 409)},
    }},
    "/api/v1/redemptions": {"post": {
        "summary": "Redeem points for a reward (scope rewards)", "operationId": "redeemReward",
        "description": "Idempotent on (outlet, request_no): the same body again answers 200 with the first "
                       "result; another body with the same request_no answers 409. Too few points, no stock "
                       "left: 409.",
        "requestBody": {"required": True, "content": json_content("RedemptionRequest")},
        "responses": {"201": {"description": "Redeemed", "content": json_content("Redemption")},
                      "200": {"description": "Replay of an earlier identical request",
                              "content": json_content("Redemption")},
                      **errors(400, 401, 403, 404, 409, 413, 422)},
    }},
    "/api/v1/redemptions/{no}": {"get": {
        "summary": "One redemption (scope rewards)", "operationId": "getRedemption", "parameters": [NO],
        "responses": {"200": {"description": "The redemption", "content": json_content("Redemption")},
                      **errors(401, 403, 404)},
    }},
    "/api/v1/redemptions/{no}/collect": {"post": {
        "summary": "The guest picks the reward up (scope rewards)", "operationId": "collectRedemption",
        "parameters": [NO],
        "responses": {"200": {"description": "Collected", "content": json_content("Redemption")},
                      **errors(400, 401, 403, 404, 409)},
    }},
    "/api/v1/redemptions/{no}/cancel": {"post": {
        "summary": "Cancel a redemption: points and stock go back (scope rewards)",
        "operationId": "cancelRedemption", "parameters": [NO],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["reason"], "properties": {
                "reason": {"type": "string", "maxLength": 500},
                "force": {"type": "boolean", "default": False,
                          "description": "Needed to cancel a redemption already collected"}}}}}},
        "responses": {"200": {"description": "Cancelled", "content": json_content("Redemption")},
                      **errors(400, 401, 403, 404, 409)},
    }},
    "/api/v1/cards/{card_no}/redemptions": {"get": {
        "summary": "A member's redemptions, newest first (scope rewards)", "operationId": "listCardRedemptions",
        "parameters": [CARD_NO, *PAGING],
        "responses": {"200": {"description": "A page of redemptions", "content": json_content("RedemptionPage")},
                      **errors(400, 401, 403, 404)},
    }},
}

SCHEMAS = {
    "RewardInput": {"type": "object", "required": ["code", "name", "category", "cost"], "additionalProperties": False,
                    "properties": {"code": {"type": "string", "pattern": r"^[A-Za-z0-9_.-]{1,32}$"}, **REWARD_FIELDS}},
    "Reward": {"type": "object", "properties": {
        "code": {"type": "string"}, **REWARD_FIELDS, "cost": DECIMAL,
        "points_price": {"type": "integer", "description": "The price in points now in force"},
        "points_price_override": {"type": "integer", "nullable": True},
        "available": {"type": "boolean", "description": "Active and inside its window now"},
    }},
    "RewardCatalogue": {"type": "object", "properties": {
        "points_per_currency_unit": {"type": "string", "example": "100"},
        "rewards": {"type": "array", "items": {"$ref": "#/components/schemas/Reward"}},
    }},
    "RedemptionRequest": {"type": "object", "required": ["card_no", "reward", "request_no"],
                          "additionalProperties": False, "properties": {
        "card_no": {"type": "string"},
        "reward": {"type": "string", "description": "Reward code"},
        "quantity": {"type": "integer", "minimum": 1, "maximum": 99, "default": 1},
        "request_no": {"type": "string", "maxLength": 64, "description": "The desk's idempotency key"},
        "collection": {"type": "string", "enum": ["now", "later"], "default": "now"},
    }},
    "Redemption": {"type": "object", "properties": {
        "no": {"type": "string", "example": "R00000042"},
        "outlet": {"type": "string"},
        "request_no": {"type": "string"},
        "card_no": {"type": "string"},
        "reward": {"type": "object", "properties": {"code": {"type": "string"}, "name": {"type": "string"},
                                                    "category": CATEGORY}},
        "quantity": {"type": "integer"},
        "points": {"type": "integer"},
        "status": {"type": "string", "enum": ["collected", "awaiting_pickup", "cancelled"]},
        "voucher_expires_at": TIMESTAMP,
        "redeemed_at": {"type": "string", "format": "date-time"},
        "collected_at": TIMESTAMP,
        "cancelled_at": TIMESTAMP,
        "cancel_reason": {"type": "string", "nullable": True},
        "points_balance": {"type": "integer", "description": "After redeeming or cancelling (not on GET)"},
        "replayed": {"type": "boolean"},
    }},
    "RedemptionPage": {"type": "object", "properties": {
        "card_no": {"type": "string"}, "page": {"type": "integer"}, "per_page": {"type": "integer"},
        "total": {"type": "integer"},
        "redemptions": {"type": "array", "items": {"$ref": "#/components/schemas/Redemption"}},
    }},
}
