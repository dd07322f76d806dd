"""The card API's operations (card types, anonymous sale, status, replacement, PIN, renewal) and the
schemas of their answers; the request schemas are the models of lps_core.cards.schemas."""
from lps_core.api.document import answer, problems
from lps_core.api.operations import Operation
from lps_core.cards.schemas import (
    AnonymousSaleIn, CardPath, CardTypeChangeIn, CardTypeIn, CardTypePath, PinChangeIn, RenewalIn, ReplacementIn,
    StatusChangeIn,
)

DECIMAL = {"type": "string", "pattern": r"^[0-9]+\.[0-9]{2}$", "example": "380.00",
           "description": "An amount as a decimal string with 2 decimals"}
DECIMAL_TEXT = {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$", "example": "0.15"}
TIMESTAMP = {"type": "string", "format": "date-time", "nullable": True, "example": "2026-12-31T23:59:59Z"}
SCOPE = "cards.manage"


def _card_action(route, operation_id, summary, body, status="200", codes=(401, 403, 404, 409, 413, 422)):
    return Operation(route, "post", operation_id, summary,
                     {status: answer("The card after the change", "CardState"), **problems(*codes)},
                     scope=SCOPE, body=body, path=CardPath)


OPERATIONS = [
    Operation("api.card_types", "get", "listCardTypes", "The card types (products)",
              {"200": answer("Every card type", schema={"type": "object", "properties": {"card_types": {
                  "type": "array", "items": {"$ref": "#/components/schemas/CardType"}}}}),
               **problems(401, 403)}, scope=SCOPE),
    Operation("api.card_types", "post", "createCardType", "Define a card type",
              {"201": answer("Created", "CardType"), **problems(401, 403, 409, 413, 422)},
              scope=SCOPE, body=CardTypeIn),
    Operation("api.card_type", "get", "getCardType", "One card type",
              {"200": answer("The card type", "CardType"), **problems(401, 403, 404)}, scope=SCOPE, path=CardTypePath),
    Operation("api.card_type", "put", "updateCardType", "Change a card type's fields (those left out keep their value)",
              {"200": answer("The card type", "CardType"), **problems(401, 403, 404, 413, 422)},
              scope=SCOPE, body=CardTypeChangeIn, path=CardTypePath),
    Operation("api.card_anonymous", "post", "sellAnonymousCard", "Sell an anonymous bearer card over the counter",
              {"201": answer("The card, active", "CardState"), **problems(401, 403, 409, 413, 422)},
              scope=SCOPE, body=AnonymousSaleIn),
    _card_action("api.card_status", "changeCardStatus", "Freeze, unfreeze, report lost or cancel a card",
                 StatusChangeIn, codes=(401, 403, 404, 409, 413)),
    _card_action("api.card_replace", "replaceCard", "Replace a card: balances and history move to a new number",
                 ReplacementIn, status="201"),
    _card_action("api.card_pin", "setCardPin", "Set, change or reset a card's PIN", PinChangeIn),
    _card_action("api.card_renew", "renewCard", "Extend a card's validity", RenewalIn),
]

SCHEMAS = {
    "CardType": {"type": "object", "properties": {
        "code": {"type": "string"}, "name": {"type": "string"}, "prefix": {"type": "string"},
        "points_multiplier": DECIMAL_TEXT, "discount_rate": DECIMAL_TEXT,
        "discount_overrides": {"type": "array", "items": {"type": "object", "properties": {
            "outlet": {"type": "string"}, "category": {"type": "string"}, "rate": DECIMAL_TEXT}}},
        "stored_value": {"type": "boolean"},
        "deposit_bonuses": {"type": "array", "items": {"type": "object", "properties": {
            "min_deposit": DECIMAL, "bonus": DECIMAL}}},
        "initial_uses": {"type": "integer", "nullable": True},
        "uses_outlets": {"type": "array", "items": {"type": "string"}, "nullable": True},
        "credit_limit": {**DECIMAL, "nullable": True},
        "credit_warning_ratio": DECIMAL_TEXT,
        "validity_days": {"type": "integer", "nullable": True},
        "valid_from": TIMESTAMP, "valid_to": TIMESTAMP,
        "anonymous": {"type": "boolean"}, "pin_required": {"type": "boolean"}, "active": {"type": "boolean"},
    }},
    "CardState": {"type": "object", "properties": {
        "card_no": {"type": "string"}, "status": {"type": "string"}, "card_type": {"type": "string"},
        "member_id": {"type": "integer", "nullable": True}, "valid_from": TIMESTAMP, "valid_to": TIMESTAMP,
        "status_reason": {"type": "string", "nullable": True}, "status_changed_at": TIMESTAMP,
        "pin_set": {"type": "boolean"}, "pin_locked_until": TIMESTAMP,
        "replaces": {"type": "string", "description": "Replacement only: the old card number"},
    }},
}
