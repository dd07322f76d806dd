"""The OpenAPI 3 document of /api/v1, served at /api/v1/openapi.json. tests/test_openapi.py fails
when a route of the API is missing here.

The core API's paths are here; each feature package with API routes of its own (cards, cashier,
rewards, receipts) describes them in its `openapi.py` as PATHS and SCHEMAS, merged in below."""
from lps_core.api.openapi_parts import CARD_NO, DECIMAL
from lps_core.api.openapi_parts import errors as _errors
from lps_core.api.openapi_parts import json_content as _json
from lps_core.api.openapi_parts import path_param as _path_param
from lps_core.cards import openapi as cards_openapi
from lps_core.cashier import openapi as cashier_openapi
from lps_core.receipts import openapi as receipts_openapi
from lps_core.rewards import openapi as rewards_openapi

FEATURES = (cards_openapi, cashier_openapi, rewards_openapi, receipts_openapi)

DOCUMENT = {
    "openapi": "3.0.3",
    "info": {
        "title": "LPS API",
        "version": "1.0.0",
        "description": "Loyalty programme API for outlets, tills and the hotel website. Every call needs "
                       "`Authorization: Bearer <key>`; a key belongs to one outlet and carries scopes "
                       "(members, members.approve, cards.read, transactions, cashier, rewards; and, only when asked for, "
                       "rules.manage, tiers.manage, cards.manage, rewards.manage, outlets.manage).",
    },
    "servers": [{"url": "/"}],
    "security": [{"bearer": []}],
    "paths": {
        "/api/v1/openapi.json": {"get": {
            "summary": "This document", "security": [],
            "responses": {"200": {"description": "OpenAPI 3 document"}},
        }},
        "/api/v1/members": {"post": {
            "summary": "Enrol a member (waits for approval)", "operationId": "enrolMember",
            "requestBody": {"required": True, "content": _json("Enrolment")},
            "responses": {"201": {"description": "Enrolled, pending approval", "content": _json("MemberStatus")},
                          **_errors(400, 401, 403, 413)},
        }},
        "/api/v1/members/{id}/approve": {"post": {
            "summary": "Approve a pending member and issue a card", "operationId": "approveMember",
            "parameters": [_path_param("id", "Member id", "integer")],
            "requestBody": {"required": False, "content": {"application/json": {"schema": {
                "type": "object", "properties": {"card_type": {"type": "string"}}}}}},
            "responses": {"200": {"description": "Approved", "content": _json("Approval")},
                          **_errors(400, 401, 403, 404, 409, 422)},
        }},
        "/api/v1/cards/{card_no}": {"get": {
            "summary": "Look a card up", "operationId": "getCard", "parameters": [CARD_NO],
            "responses": {"200": {"description": "The card", "content": _json("Card")}, **_errors(400, 401, 403, 404)},
        }},
        "/api/v1/cards/{card_no}/ledger": {"get": {
            "summary": "A card's ledger, newest first", "operationId": "getCardLedger",
            "parameters": [
                CARD_NO,
                {"name": "account", "in": "query", "schema": {"type": "string", "enum": ["points", "stored_value"],
                                                              "default": "points"}},
                {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
                {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200,
                                                               "default": 50}},
            ],
            "responses": {"200": {"description": "A page of entries", "content": _json("LedgerPage")},
                          **_errors(400, 401, 403, 404)},
        }},
        "/api/v1/transactions": {"post": {
            "summary": "Earn points for a bill", "operationId": "postTransaction",
            "description": "Idempotent on (outlet, bill_no): the same body again answers 200 with the first "
                           "result; another body with the same bill_no answers 409.",
            "requestBody": {"required": True, "content": _json("TransactionRequest")},
            "responses": {"201": {"description": "Posted", "content": _json("Transaction")},
                          "200": {"description": "Replay of an earlier identical post", "content": _json("Transaction")},
                          **_errors(400, 401, 403, 409, 413, 422)},
        }},
        "/api/v1/transactions/{id}": {"get": {
            "summary": "A posted bill with its breakdown and refunds", "operationId": "getTransaction",
            "parameters": [_path_param("id", "Transaction id", "integer")],
            "responses": {"200": {"description": "The transaction", "content": _json("TransactionDetail")},
                          **_errors(400, 401, 403, 404)},
        }},
        "/api/v1/transactions/{id}/reversal": {"post": {
            "summary": "Refund all or part of a bill; its points come back pro rata", "operationId": "reverseTransaction",
            "description": "Without `amount`, refunds what is left. Send a `refund_no` to make a partial refund "
                           "safe to retry; a whole refund without one is keyed 'full'.",
            "parameters": [_path_param("id", "Transaction id", "integer")],
            "requestBody": {"required": False, "content": _json("ReversalRequest")},
            "responses": {"201": {"description": "Reversed", "content": _json("Reversal")},
                          "200": {"description": "Replay of an earlier identical refund", "content": _json("Reversal")},
                          **_errors(400, 401, 403, 404, 409)},
        }},
        "/api/v1/tiers": {"get": {
            "summary": "The programme's tiers with benefits and qualification (scope cards.read)",
            "operationId": "listTiers",
            "responses": {"200": {"description": "Tiers, lowest first", "content": _json("TierList")},
                          **_errors(401, 403)},
        }},
        "/api/v1/members/{id}/tier": {"get": {
            "summary": "A member's tier, floor, activity in the window and progress to the next tier "
                       "(scope cards.read)", "operationId": "getMemberTier",
            "parameters": [_path_param("id", "Member id", "integer")],
            "responses": {"200": {"description": "The member's tier", "content": _json("MemberTier")},
                          **_errors(400, 401, 403, 404)},
        }},
        "/api/v1/members/{id}/tier-purchase": {"post": {
            "summary": "Buy a higher tier with points (scope members)", "operationId": "purchaseTier",
            "description": "Idempotent on (member, purchase_no): the same body again answers 200 with the first "
                           "result; the same purchase_no for another tier answers 409. Too few points: 409 "
                           "insufficient_balance.",
            "parameters": [_path_param("id", "Member id", "integer")],
            "requestBody": {"required": True, "content": _json("TierPurchaseRequest")},
            "responses": {"201": {"description": "Bought", "content": _json("TierPurchase")},
                          "200": {"description": "Replay of an earlier identical purchase",
                                  "content": _json("TierPurchase")},
                          **_errors(400, 401, 403, 404, 409, 413, 422)},
        }},
        "/api/v1/members/{id}/tier-floor": {"post": {
            "summary": "Set a staff floor (status match); raises the member to it at once (scope tiers.manage)",
            "operationId": "setTierFloor",
            "parameters": [_path_param("id", "Member id", "integer")],
            "requestBody": {"required": True, "content": _json("TierFloorRequest")},
            "responses": {"200": {"description": "Floor set", "content": _json("TierFloor")},
                          **_errors(400, 401, 403, 404, 409, 413, 422)},
        }},
        "/api/v1/outlets/{code}/rules": {
            "get": {
                "summary": "An outlet's earning-rule versions (scope rules.manage)", "operationId": "getRules",
                "parameters": [_path_param("code", "Outlet code")],
                "responses": {"200": {"description": "Every version, oldest first"}, **_errors(401, 403, 404)},
            },
            "post": {
                "summary": "Add a rule version (scope rules.manage); left-out fields keep the current values",
                "operationId": "addRule", "parameters": [_path_param("code", "Outlet code")],
                "requestBody": {"required": True, "content": _json("RuleRequest")},
                "responses": {"201": {"description": "The new version", "content": _json("Rule")},
                              **_errors(400, 401, 403, 404, 409)},
            },
        },
        "/api/v1/promotions": {
            "get": {"summary": "Every promotion (scope rules.manage)", "operationId": "listPromotions",
                    "responses": {"200": {"description": "Promotions"}, **_errors(401, 403)}},
            "post": {"summary": "Create a promotion (scope rules.manage)", "operationId": "createPromotion",
                     "requestBody": {"required": True, "content": _json("Promotion")},
                     "responses": {"201": {"description": "Created", "content": _json("Promotion")},
                                   **_errors(400, 401, 403, 409)}},
        },
        "/api/v1/promotions/{code}": {
            "get": {"summary": "One promotion (scope rules.manage)", "operationId": "getPromotion",
                    "parameters": [_path_param("code", "Promotion code")],
                    "responses": {"200": {"description": "The promotion", "content": _json("Promotion")},
                                  **_errors(401, 403, 404)}},
            "patch": {"summary": "Change or end a promotion (scope rules.manage)", "operationId": "changePromotion",
                      "parameters": [_path_param("code", "Promotion code")],
                      "requestBody": {"required": True, "content": _json("Promotion")},
                      "responses": {"200": {"description": "Changed", "content": _json("Promotion")},
                                    **_errors(400, 401, 403, 404)}},
        },
        "/api/v1/preview": {"post": {
            "summary": "Points a hypothetical bill would earn, with the breakdown; posts nothing (scope transactions)",
            "operationId": "preview",
            "requestBody": {"required": True, "content": _json("PreviewRequest")},
            "responses": {"200": {"description": "The computation", "content": _json("Preview")},
                          **_errors(400, 401, 403, 404, 409)},
        }},
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {"type": "object", "required": ["error", "message"], "properties": {
                "error": {"type": "string", "example": "validation_failed"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "string"},
                           "example": {"amount": "must be greater than 0"}},
            }},
            "Enrolment": {"type": "object", "required": ["name", "channel"], "additionalProperties": False,
                          "properties": {
                              "name": {"type": "string", "maxLength": 200},
                              "phone": {"type": "string", "example": "+8613800000001"},
                              "email": {"type": "string", "format": "email"},
                              "birthday": {"type": "string", "format": "date"},
                              "gender": {"type": "string", "enum": ["female", "male", "other", "unspecified"]},
                              "channel": {"type": "string", "enum": ["desk", "web"]},
                              "referrer_card_no": {"type": "string",
                                                   "description": "Card of the member who referred them"},
                          }, "description": "A phone number or an e-mail address is required."},
            "MemberStatus": {"type": "object", "properties": {
                "id": {"type": "integer"}, "status": {"type": "string", "enum": ["pending", "active"]}}},
            "Approval": {"type": "object", "properties": {
                "id": {"type": "integer"}, "status": {"type": "string"}, "card_no": {"type": "string"}}},
            "Card": {"type": "object", "properties": {
                "card_no": {"type": "string"}, "status": {"type": "string"}, "card_type": {"type": "string"},
                "member": {"type": "object", "nullable": True, "properties": {
                    "id": {"type": "integer"}, "name": {"type": "string"}}},
                "tier": {"type": "string", "nullable": True},
                "points_balance": {"type": "integer"},
                "stored_value_balance": DECIMAL,
            }},
            "BreakdownStep": {"type": "object", "properties": {
                "step": {"type": "string", "example": "formula"}, "rule": {"type": "string"},
                "description": {"type": "string"}, "points": {"type": "integer"}}},
            "TransactionRequest": {"type": "object", "required": ["card_no", "bill_no", "amount"],
                                   "additionalProperties": False, "properties": {
                "card_no": {"type": "string"},
                "bill_no": {"type": "string", "maxLength": 64},
                "amount": DECIMAL,
                "occurred_at": {"type": "string", "format": "date-time",
                                "description": "With a time-zone offset; default: now"},
                "items": {"type": "array", "maxItems": 500, "items": {"type": "object", "required": ["sku", "amount"],
                                                                      "properties": {
                    "sku": {"type": "string"}, "category": {"type": "string"},
                    "qty": {"type": "number"}, "amount": DECIMAL}}},
            }},
            "Transaction": {"type": "object", "properties": {
                "id": {"type": "integer"}, "outlet": {"type": "string"}, "bill_no": {"type": "string"},
                "amount": DECIMAL, "points": {"type": "integer"}, "points_balance": {"type": "integer"},
                "breakdown": {"type": "array", "items": {"$ref": "#/components/schemas/BreakdownStep"}},
                "replayed": {"type": "boolean"}}},
            "TierRef": {"type": "object", "properties": {
                "code": {"type": "string"}, "name": {"type": "string"}, "rank": {"type": "integer"}}},
            "Tier": {"type": "object", "properties": {
                "code": {"type": "string"}, "name": {"type": "string"}, "rank": {"type": "integer"},
                "benefits": {"type": "object", "properties": {
                    "multiplier": {"type": "string", "example": "1.500"},
                    "discount_rate": {"type": "string", "example": "0.1000"},
                    "entitlements": {"type": "array", "items": {"type": "string"}}}},
                "qualification": {"type": "object", "nullable": True, "description": "Any one is enough",
                                  "properties": {"points": {"type": "integer"}, "spend": DECIMAL,
                                                 "nights": {"type": "integer"}, "stays": {"type": "integer"}}},
                "purchase_points": {"type": "integer", "nullable": True}}},
            "TierList": {"type": "object", "properties": {
                "model": {"type": "string"},
                "window": {"type": "string", "enum": ["calendar_year", "rolling_12_months"]},
                "tiers": {"type": "array", "items": {"$ref": "#/components/schemas/Tier"}}}},
            "MemberTier": {"type": "object", "properties": {
                "member_id": {"type": "integer"}, "status": {"type": "string"},
                "tier": {"allOf": [{"$ref": "#/components/schemas/Tier"}], "nullable": True},
                "since": {"type": "string", "format": "date-time", "nullable": True},
                "floor": {"type": "object", "nullable": True, "properties": {
                    "tier": {"type": "string"}, "expires_at": {"type": "string", "format": "date-time"},
                    "active": {"type": "boolean"}}},
                "window": {"type": "object", "properties": {
                    "kind": {"type": "string"}, "from": {"type": "string", "format": "date"},
                    "until": {"type": "string", "format": "date", "description": "Exclusive"}}},
                "activity": {"type": "object", "properties": {
                    "points": {"type": "integer"}, "spend": DECIMAL, "nights": {"type": "integer"},
                    "stays": {"type": "integer"}, "bills": {"type": "integer"}}},
                "next_tier": {"type": "object", "nullable": True, "properties": {
                    "tier": {"$ref": "#/components/schemas/TierRef"},
                    "needs": {"type": "object", "description": "What is still missing per criterion (any one)"},
                    "progress": {"type": "number", "minimum": 0, "maximum": 1}}}}},
            "TierPurchaseRequest": {"type": "object", "required": ["tier", "purchase_no"],
                                    "additionalProperties": False, "properties": {
                "tier": {"type": "string"}, "purchase_no": {"type": "string", "maxLength": 64}}},
            "TierPurchase": {"type": "object", "properties": {
                "member_id": {"type": "integer"}, "tier": {"type": "string"}, "points": {"type": "integer"},
                "points_balance": {"type": "integer"}, "outlet": {"type": "string"}, "replayed": {"type": "boolean"}}},
            "TierFloorRequest": {"type": "object", "required": ["tier", "expires_at"], "additionalProperties": False,
                                 "properties": {"tier": {"type": "string"},
                                                "expires_at": {"type": "string", "format": "date-time",
                                                               "description": "In the future, with an offset"}}},
            "TierFloor": {"type": "object", "properties": {
                "member_id": {"type": "integer"},
                "floor": {"type": "object", "properties": {"tier": {"type": "string"},
                                                           "expires_at": {"type": "string", "format": "date-time"}}},
                "tier": {"type": "string", "nullable": True, "description": "The new tier if raised"},
                "raised": {"type": "boolean"}}},
            "Band": {"type": "object", "required": ["multiplier"], "properties": {
                "from": DECIMAL, "to": {**DECIMAL, "nullable": True, "description": "Exclusive; null: no upper end"},
                "multiplier": {"type": "string", "example": "1.5"}}},
            "RuleRequest": {"type": "object", "additionalProperties": False, "properties": {
                "formula": {"type": "string", "example": "base_rate"},
                "formula_params": {"type": "object"},
                "bands": {"type": "array", "items": {"$ref": "#/components/schemas/Band"}},
                "band_basis": {"type": "string", "enum": ["bill", "period_spend"]},
                "band_period": {"type": "string", "enum": ["month", "year"], "nullable": True},
                "rounding": {"type": "string", "enum": ["floor", "half_up", "half_even"]},
                "max_points_per_bill": {"type": "integer", "nullable": True},
                "effective_from": {"type": "string", "format": "date-time"},
                "note": {"type": "string"}}},
            "Rule": {"allOf": [{"$ref": "#/components/schemas/RuleRequest"}, {"type": "object", "properties": {
                "id": {"type": "integer"}, "version": {"type": "integer"}}}]},
            "Promotion": {"type": "object", "properties": {
                "code": {"type": "string"}, "name": {"type": "string"},
                "kind": {"type": "string", "enum": ["multiplier", "bonus", "sku_bonus", "first_stay", "enrolment",
                                                    "referral"]},
                "params": {"type": "object", "example": {"multiplier": "2"}},
                "starts_at": {"type": "string", "format": "date-time"},
                "ends_at": {"type": "string", "format": "date-time"},
                "outlets": {"type": "array", "items": {"type": "string"}, "nullable": True},
                "categories": {"type": "array", "items": {"type": "string"}, "nullable": True},
                "skus": {"type": "array", "items": {"type": "string"}, "nullable": True},
                "tiers": {"type": "array", "items": {"type": "string"}, "nullable": True},
                "card_types": {"type": "array", "items": {"type": "string"}, "nullable": True},
                "weekdays": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 7},
                             "nullable": True},
                "stacking": {"type": "string", "enum": ["stack", "best_of", "exclusive"]},
                "exclusive_group": {"type": "string", "nullable": True},
                "priority": {"type": "integer"},
                "cap_per_bill": {"type": "integer", "nullable": True},
                "cap_per_member": {"type": "integer", "nullable": True},
                "cap_period": {"type": "string", "enum": ["day", "month", "year", "promotion"], "nullable": True},
                "active": {"type": "boolean"}}},
            "PreviewRequest": {"type": "object", "required": ["amount"], "properties": {
                "outlet": {"type": "string", "description": "Default: the key's outlet"},
                "amount": DECIMAL, "occurred_at": {"type": "string", "format": "date-time"},
                "items": {"$ref": "#/components/schemas/TransactionRequest/properties/items"},
                "card_no": {"type": "string", "description": "A real member's card: their tier, card type, history"},
                "tier": {"type": "string"}, "card_type": {"type": "string"}}},
            "Preview": {"type": "object", "properties": {
                "outlet": {"type": "string"}, "rule_version": {"type": "integer"}, "points": {"type": "integer"},
                "breakdown": {"type": "array", "items": {"$ref": "#/components/schemas/BreakdownStep"}},
                "qualifying": {"type": "object"}}},
            "TransactionDetail": {"type": "object", "properties": {
                "id": {"type": "integer"}, "outlet": {"type": "string"}, "bill_no": {"type": "string"},
                "card_no": {"type": "string"}, "amount": DECIMAL,
                "occurred_at": {"type": "string", "format": "date-time"}, "points": {"type": "integer"},
                "breakdown": {"type": "array", "items": {"$ref": "#/components/schemas/BreakdownStep"}},
                "refunds": {"type": "array", "items": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "refund_no": {"type": "string"}, "amount": DECIMAL,
                    "points": {"type": "integer"}}}}}},
            "ReversalRequest": {"type": "object", "additionalProperties": False, "properties": {
                "amount": DECIMAL, "refund_no": {"type": "string", "maxLength": 64}}},
            "Reversal": {"type": "object", "properties": {
                "id": {"type": "integer"}, "transaction_id": {"type": "integer"}, "refund_no": {"type": "string"},
                "amount": DECIMAL, "points": {"type": "integer", "description": "Points taken back"},
                "points_balance": {"type": "integer"}, "replayed": {"type": "boolean"}}},
            "LedgerEntry": {"type": "object", "properties": {
                "id": {"type": "integer"},
                "kind": {"type": "string", "example": "earn"},
                "amount": {"description": "Points (integer) or money (decimal string) for stored value"},
                "balance_after": {}, "occurred_at": {"type": "string", "format": "date-time"},
                "outlet": {"type": "string", "nullable": True}, "bill_no": {"type": "string", "nullable": True},
                "reverses": {"type": "integer", "nullable": True},
                "breakdown": {"type": "array", "items": {"$ref": "#/components/schemas/BreakdownStep"}},
                "note": {"type": "string", "nullable": True}}},
            "LedgerPage": {"type": "object", "properties": {
                "card_no": {"type": "string"}, "account": {"type": "string"}, "page": {"type": "integer"},
                "per_page": {"type": "integer"}, "total": {"type": "integer"},
                "entries": {"type": "array", "items": {"$ref": "#/components/schemas/LedgerEntry"}}}},
        },
    },
}

for feature in FEATURES:
    DOCUMENT["paths"].update(feature.PATHS)
    DOCUMENT["components"]["schemas"].update(feature.SCHEMAS)
