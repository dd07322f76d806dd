"""The cashier's API operations (look-up, settlements, refunds, value put on a card) and the schemas
of their answers. Request schemas come from lps_core.cashier.schemas, which validate the input."""
from lps_core.api.document import answer, problems
from lps_core.api.openapi import DECIMAL
from lps_core.api.operations import Operation
from lps_core.cards.schemas import CardPath
from lps_core.cashier.schemas import (
    CreditRepaymentIn,
    DepositIn,
    LookupQuery,
    RefundIn,
    SettleIn,
    SettlementPath,
    UsesTopUpIn,
)

NULLABLE_DECIMAL = {**DECIMAL, "nullable": True}


def _movement(route, operation_id, summary, body, description):
    return Operation(route, "post", operation_id, summary,
                     {"201": answer("Posted", "CardMovement"), "200": answer("Replay of an earlier identical post",
                                                                            "CardMovement"),
                      **problems(401, 403, 404, 409, 413, 422)},
                     scope="cashier", body=body, path=CardPath,
                     description=description + " Idempotent on the till's number at the outlet: the same body "
                                               "again answers 200, other content with the same number 409.")


OPERATIONS = [
    Operation("api.cashier_lookup", "get", "lookUp", "Find cards by card number, phone or member name (exactly one)",
              {"200": answer("Up to 20 matching cards", "LookUp"), **problems(401, 403, 422)},
              scope="cashier", query=LookupQuery,
              description="Give exactly one of `card_no`, `phone` or `name` (422 otherwise). A phone number "
                          "without a country code is read in the programme's region."),
    Operation("api.settlements", "post", "settle", "Settle a bill with a card: discount, mixed tenders, points",
              {"201": answer("Settled", "Settlement"), "200": answer("Replay of an earlier identical post",
                                                                     "Settlement"),
               **problems(401, 403, 409, 413, 422)},
              scope="cashier", body=SettleIn,
              description="Idempotent on (outlet, bill_no). Everything or nothing: when one tender fails "
                          "(insufficient balance, wrong PIN, no credit left) nothing is posted. A tender's `kind` is "
                          "any tender a plugin provides (stored_value, credit, uses, cash, bank_card, voucher, "
                          "other, points and plugins' own): 422 naming `tenders[i]` when no plugin provides it "
                          "or it is switched off at the outlet. 422 also when `amount` differs from the sum of "
                          "the items, when a tender that takes from an account of the card or member appears "
                          "twice, when the card number fails its check digit, or the card cannot be used."),
    Operation("api.settlement", "get", "getSettlement", "A settlement of the key's outlet",
              {"200": answer("The settlement", "Settlement"), **problems(401, 403, 404)},
              scope="cashier", path=SettlementPath,
              description="Another outlet's settlement answers 404, as an unknown one does."),
    Operation("api.settlement_refunds", "post", "refundSettlement", "Refund all or part of a settlement",
              {"201": answer("Refunded", "SettlementRefund"), "200": answer("Replay of an earlier identical refund",
                                                                            "SettlementRefund"),
               **problems(401, 403, 404, 409, 413, 422)},
              scope="cashier", body=RefundIn, body_required=False, path=SettlementPath,
              description="Each tender gets its share back pro rata; points are taken back pro rata. Without an "
                          "amount the rest is refunded (refund_no defaults to 'full'); a partial refund needs a "
                          "refund_no."),
    _movement("api.card_deposits", "depositOnCard", "Deposit money on a stored-value card", DepositIn,
              "The card type's deposit bonus (the highest step reached) is added as bonus value."),
    _movement("api.card_uses", "topUpCardUses", "Add uses to a count card", UsesTopUpIn,
              "`amount` is the price paid, recorded with the top-up."),
    _movement("api.card_repayments", "repayCardCredit", "Repay a card's credit line", CreditRepaymentIn,
              "Never more than the card owes (409)."),
]

BALANCES = {"type": "object", "properties": {
    "points": {"type": "integer", "nullable": True}, "stored_value": NULLABLE_DECIMAL,
    "bonus_value": NULLABLE_DECIMAL, "uses": {"type": "integer", "nullable": True},
    "credit_used": NULLABLE_DECIMAL, "credit_limit": NULLABLE_DECIMAL, "credit_left": NULLABLE_DECIMAL}}

SCHEMAS = {
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
            "warnings": {"type": "array", "items": {"type": "string"}},
            "card_type": {"type": "object", "properties": {
                "code": {"type": "string"}, "name": {"type": "string"}, "anonymous": {"type": "boolean"}}},
            "discount_rate": {"type": "string"},
            "discount_overrides": {"type": "array", "items": {"type": "object"}},
            "member": {"type": "object", "nullable": True}, "tier": {"type": "object", "nullable": True},
            "balances": BALANCES, "valid_from": {"type": "string", "nullable": True},
            "valid_to": {"type": "string", "nullable": True}, "pin_needed": {"type": "boolean"}}}}}},
    "CardMovement": {"type": "object", "properties": {
        "card_no": {"type": "string"}, "outlet": {"type": "string"}, "deposit_no": {"type": "string"},
        "topup_no": {"type": "string"}, "repayment_no": {"type": "string"}, "amount": DECIMAL,
        "bonus": DECIMAL, "uses": {"type": "integer"}, "balances": BALANCES, "replayed": {"type": "boolean"}}},
}
