"""The OpenAPI description of the cashier's /api/v1 routes, merged into lps_core.api.openapi.DOCUMENT."""
from lps_core.api.openapi_parts import CARD_NO, DECIMAL, errors, json_content, path_param

SETTLEMENT_ID = path_param("id", "Settlement id", "integer")
NULLABLE_DECIMAL = {**DECIMAL, "nullable": True}
TENDER_KINDS = ["stored_value", "credit", "uses", "cash", "bank_card", "voucher", "other"]
DEPOSIT_TENDERS = ["cash", "bank_card", "transfer", "other"]


def _movement(number_field, summary, description, extra=None, required=("amount",)):
    properties = {number_field: {"type": "string", "maxLength": 64, "description": "The till's own number: "
                                 "the same number again replays, with other content it is a 409"},
                  "amount": DECIMAL, "tender": {"type": "string", "enum": DEPOSIT_TENDERS},
                  "reference": {"type": "string", "maxLength": 64}, "occurred_at": {"type": "string",
                                                                                   "format": "date-time"},
                  **(extra or {})}
    return {"post": {
        "summary": summary, "description": description, "parameters": [CARD_NO],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": [number_field, "tender", *required], "properties": properties}}}},
        "responses": {"201": {"description": "Posted", "content": json_content("CardMovement")},
                      "200": {"description": "Replayed", "content": json_content("CardMovement")},
                      **errors(400, 401, 403, 409, 422)},
    }}


PATHS = {
    "/api/v1/cashier/lookup": {"get": {
        "summary": "Find cards by card number, phone or member name (exactly one)", "operationId": "lookUp",
        "parameters": [{"name": name, "in": "query", "schema": {"type": "string"}}
                       for name in ("card_no", "phone", "name")],
        "responses": {"200": {"description": "Up to 20 matching cards", "content": json_content("LookUp")},
                      **errors(400, 401, 403)},
    }},
    "/api/v1/settlements": {"post": {
        "summary": "Settle a bill with a card: discount, mixed tenders, points", "operationId": "settle",
        "description": "Idempotent on (outlet, bill_no). Everything or nothing: when one tender fails "
                       "(insufficient balance, wrong PIN, no credit left) nothing is posted.",
        "requestBody": {"required": True, "content": json_content("SettleRequest")},
        "responses": {"201": {"description": "Settled", "content": json_content("Settlement")},
                      "200": {"description": "Replayed", "content": json_content("Settlement")},
                      **errors(400, 401, 403, 409, 413, 422)},
    }},
    "/api/v1/settlements/{id}": {"get": {
        "summary": "A settlement of the key's outlet", "operationId": "getSettlement", "parameters": [SETTLEMENT_ID],
        "responses": {"200": {"description": "The settlement", "content": json_content("Settlement")},
                      **errors(400, 401, 403, 404)},
    }},
    "/api/v1/settlements/{id}/refunds": {"post": {
        "summary": "Refund all or part of a settlement", "operationId": "refundSettlement",
        "description": "Each tender gets its share back pro rata; points are taken back pro rata. Without an "
                       "amount the rest is refunded (refund_no defaults to 'full'); a partial refund needs a "
                       "refund_no.",
        "parameters": [SETTLEMENT_ID],
        "requestBody": {"required": False, "content": {"application/json": {"schema": {"type": "object", "properties": {
            "refund_no": {"type": "string", "maxLength": 64}, "amount": DECIMAL,
            "reason": {"type": "string", "maxLength": 200}, "operator": {"type": "string", "maxLength": 64}}}}}},
        "responses": {"201": {"description": "Refunded", "content": json_content("SettlementRefund")},
                      "200": {"description": "Replayed", "content": json_content("SettlementRefund")},
                      **errors(400, 401, 403, 404, 409)},
    }},
    "/api/v1/cards/{card_no}/deposits": _movement(
        "deposit_no", "Deposit money on a stored-value card",
        "The card type's deposit bonus (the highest step reached) is added as bonus value."),
    "/api/v1/cards/{card_no}/uses": _movement(
        "topup_no", "Add uses to a count card", "`amount` is the price paid, recorded with the top-up.",
        {"uses": {"type": "integer", "minimum": 1, "maximum": 10000}}, required=("uses",)),
    "/api/v1/cards/{card_no}/credit-repayments": _movement(
        "repayment_no", "Repay a card's credit line", "Never more than the card owes."),
}

BALANCES = {"type": "object", "properties": {
    "points": {"type": "integer", "nullable": True}, "stored_value": NULLABLE_DECIMAL,
    "bonus_value": NULLABLE_DECIMAL, "uses": {"type": "integer", "nullable": True},
    "credit_used": NULLABLE_DECIMAL, "credit_limit": NULLABLE_DECIMAL, "credit_left": NULLABLE_DECIMAL}}

SCHEMAS = {
    "SettleRequest": {"type": "object", "required": ["card_no", "bill_no", "tenders"], "properties": {
        "card_no": {"type": "string"}, "bill_no": {"type": "string", "maxLength": 64},
        "amount": {**DECIMAL, "description": "The bill before discount, when it has no items"},
        "items": {"type": "array", "maxItems": 500, "items": {"type": "object", "required": ["amount"], "properties": {
            "sku": {"type": "string"}, "category": {"type": "string"}, "qty": {"type": "string", "default": "1"},
            "amount": {**DECIMAL, "description": "The line's total before discount"}}}},
        "tenders": {"type": "array", "minItems": 1, "maxItems": 10, "items": {
            "type": "object", "required": ["kind", "amount"], "properties": {
                "kind": {"type": "string", "enum": TENDER_KINDS},
                "amount": {**DECIMAL, "description": "The part of the discounted bill this tender pays"},
                "uses": {"type": "integer", "minimum": 1, "description": "uses tenders only; default 1"},
                "reference": {"type": "string", "maxLength": 64}}}},
        "pin": {"type": "string", "pattern": r"^\d{4,6}$",
                "description": "Needed for stored_value or credit tenders when the card has a PIN"},
        "occurred_at": {"type": "string", "format": "date-time"},
        "operator": {"type": "string", "maxLength": 64}}},
    "Settlement": {"type": "object", "properties": {
        "id": {"type": "integer"}, "bill_no": {"type": "string"}, "occurred_at": {"type": "string"},
        "operator": {"type": "string", "nullable": True},
        "outlet": {"type": "object"}, "property": {"type": "object"}, "card": {"type": "object"},
        "member": {"type": "object", "nullable": True}, "tier": {"type": "object", "nullable": True},
        "items": {"type": "array", "items": {"type": "object"}},
        "gross": DECIMAL, "discount": DECIMAL, "charged": DECIMAL, "earning_basis": DECIMAL,
        "tenders": {"type": "array", "items": {"type": "object"}},
        "points": {"type": "integer"},
        "points_breakdown": {"type": "array", "items": {"$ref": "#/components/schemas/BreakdownStep"}},
        "balances": BALANCES, "refunds": {"type": "array", "items": {"type": "object"}},
        "refundable": DECIMAL, "replayed": {"type": "boolean"}}},
    "SettlementRefund": {"type": "object", "properties": {
        "id": {"type": "integer"}, "refund_no": {"type": "string"}, "amount": DECIMAL, "points": {"type": "integer"},
        "tenders": {"type": "array", "items": {"type": "object"}},
        "settlement": {"$ref": "#/components/schemas/Settlement"}, "replayed": {"type": "boolean"}}},
    "LookUp": {"type": "object", "properties": {
        "outlet": {"type": "string"}, "matches": {"type": "array", "items": {"type": "object", "properties": {
            "card_no": {"type": "string"}, "status": {"type": "string"}, "usable": {"type": "boolean"},
            "warnings": {"type": "array", "items": {"type": "string"}}, "discount_rate": {"type": "string"},
            "member": {"type": "object", "nullable": True}, "tier": {"type": "object", "nullable": True},
            "balances": BALANCES, "pin_needed": {"type": "boolean"}}}}}},
    "CardMovement": {"type": "object", "properties": {
        "card_no": {"type": "string"}, "outlet": {"type": "string"}, "amount": DECIMAL,
        "bonus": DECIMAL, "uses": {"type": "integer"}, "balances": BALANCES, "replayed": {"type": "boolean"}}},
}
