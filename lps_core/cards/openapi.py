"""The OpenAPI description of this feature's /api/v1 routes, merged into lps_core.api.openapi.DOCUMENT."""
from lps_core.api.openapi_parts import CARD_NO, DECIMAL, errors, json_content, path_param

RATE = {"type": "string", "pattern": r"^(0(\.\d{1,4})?|1(\.0{1,4})?)$", "example": "0.15",
        "description": "A rate from 0 to 1 with at most 4 decimal places"}
TIMESTAMP = {"type": "string", "format": "date-time", "nullable": True, "example": "2026-12-31T23:59:59+08:00"}
CODE = path_param("code", "Card type code")


def _card_action(summary, operation_id, body_schema, codes=(400, 401, 403, 404, 409, 413)):
    return {"post": {
        "summary": summary, "operationId": operation_id, "parameters": [CARD_NO],
        "requestBody": {"required": True, "content": json_content(body_schema)},
        "responses": {"200": {"description": "The card after the change", "content": json_content("CardState")},
                      **errors(*codes)},
    }}


PATHS = {
    "/api/v1/card-types": {
        "get": {"summary": "The card types (products)", "operationId": "listCardTypes",
                "responses": {"200": {"description": "Every card type", "content": {"application/json": {
                    "schema": {"type": "object", "properties": {"card_types": {
                        "type": "array", "items": {"$ref": "#/components/schemas/CardType"}}}}}}},
                    **errors(401, 403)}},
        "post": {"summary": "Define a card type", "operationId": "createCardType",
                 "requestBody": {"required": True, "content": json_content("CardType")},
                 "responses": {"201": {"description": "Created", "content": json_content("CardType")},
                               **errors(400, 401, 403, 409, 413)}},
    },
    "/api/v1/card-types/{code}": {
        "get": {"summary": "One card type", "operationId": "getCardType", "parameters": [CODE],
                "responses": {"200": {"description": "The card type", "content": json_content("CardType")},
                              **errors(401, 403, 404)}},
        "put": {"summary": "Change a card type's fields (those left out keep their value)",
                "operationId": "updateCardType", "parameters": [CODE],
                "requestBody": {"required": True, "content": json_content("CardType")},
                "responses": {"200": {"description": "The card type", "content": json_content("CardType")},
                              **errors(400, 401, 403, 404, 413)}},
    },
    "/api/v1/cards/anonymous": {"post": {
        "summary": "Sell an anonymous bearer card over the counter", "operationId": "sellAnonymousCard",
        "requestBody": {"required": True, "content": json_content("AnonymousSale")},
        "responses": {"201": {"description": "The card, active", "content": json_content("CardState")},
                      **errors(400, 401, 403, 409, 413, 422)},
    }},
    "/api/v1/cards/{card_no}/status": _card_action("Freeze, unfreeze, report lost or cancel a card", "changeCardStatus",
                                                   "StatusChange"),
    "/api/v1/cards/{card_no}/replace": {"post": {
        "summary": "Replace a card: balances and history move to a new number", "operationId": "replaceCard",
        "parameters": [CARD_NO], "requestBody": {"required": True, "content": json_content("Replacement")},
        "responses": {"201": {"description": "The new card", "content": json_content("CardState")},
                      **errors(400, 401, 403, 404, 409, 413, 422)},
    }},
    "/api/v1/cards/{card_no}/pin": _card_action("Set, change or reset a card's PIN", "setCardPin", "PinChange"),
    "/api/v1/cards/{card_no}/renew": _card_action("Extend a card's validity", "renewCard", "Renewal",
                                                  (400, 401, 403, 404, 409, 413, 422)),
}

SCHEMAS = {
    "CardType": {"type": "object", "required": ["code", "name", "prefix"], "properties": {
        "code": {"type": "string", "maxLength": 32, "description": "Set on create; cannot change"},
        "name": {"type": "string", "maxLength": 100},
        "prefix": {"type": "string", "pattern": r"^\d{1,8}$", "description": "Digits new card numbers start with"},
        "points_multiplier": {"type": "string", "example": "1.5"},
        "discount_rate": RATE,
        "discount_overrides": {"type": "array", "items": {"type": "object", "required": ["rate"], "properties": {
            "outlet": {"type": "string"}, "category": {"type": "string"}, "rate": RATE}}},
        "stored_value": {"type": "boolean"},
        "deposit_bonuses": {"type": "array", "items": {"type": "object", "required": ["min_deposit", "bonus"],
                                                       "properties": {"min_deposit": DECIMAL, "bonus": DECIMAL}}},
        "initial_uses": {"type": "integer", "minimum": 1, "nullable": True},
        "uses_outlets": {"type": "array", "items": {"type": "string"}, "nullable": True},
        "credit_limit": {**DECIMAL, "nullable": True},
        "credit_warning_ratio": {"type": "string", "example": "0.8"},
        "validity_days": {"type": "integer", "minimum": 1, "nullable": True},
        "valid_from": TIMESTAMP,
        "valid_to": TIMESTAMP,
        "anonymous": {"type": "boolean"},
        "pin_required": {"type": "boolean"},
        "active": {"type": "boolean"},
    }},
    "CardState": {"type": "object", "properties": {
        "card_no": {"type": "string"}, "status": {"type": "string"}, "card_type": {"type": "string"},
        "member_id": {"type": "integer", "nullable": True}, "valid_from": TIMESTAMP, "valid_to": TIMESTAMP,
        "status_reason": {"type": "string", "nullable": True}, "status_changed_at": TIMESTAMP,
        "pin_set": {"type": "boolean"}, "pin_locked_until": TIMESTAMP,
        "replaces": {"type": "string", "description": "Replacement only: the old card number"},
    }},
    "AnonymousSale": {"type": "object", "required": ["card_type", "pin"], "properties": {
        "card_type": {"type": "string"}, "pin": {"type": "string", "pattern": r"^\d{4,6}$"},
        "card_no": {"type": "string", "description": "An unissued pool card to sell; default: the pool's oldest"}}},
    "StatusChange": {"type": "object", "required": ["status", "reason"], "properties": {
        "status": {"type": "string", "enum": ["active", "frozen", "lost", "cancelled"]},
        "reason": {"type": "string", "maxLength": 200}}},
    "Replacement": {"type": "object", "required": ["reason"], "properties": {
        "reason": {"type": "string", "maxLength": 200},
        "card_no": {"type": "string", "description": "An unissued pool card of the same type to use"}}},
    "PinChange": {"type": "object", "required": ["pin"], "properties": {
        "pin": {"type": "string", "pattern": r"^\d{4,6}$"}, "old_pin": {"type": "string"},
        "reset": {"type": "boolean", "default": False, "description": "Staff reset: no old PIN, lifts the lock-out"}}},
    "Renewal": {"type": "object", "properties": {
        "valid_to": {"type": "string", "format": "date-time"},
        "days": {"type": "integer", "minimum": 1, "description": "From the current end, or from now if ended"}}},
}
