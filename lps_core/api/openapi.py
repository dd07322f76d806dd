"""The core API's operations (members, cards, ledger, transactions) and the schemas of their answers.

Each feature with API routes of its own declares them the same way in its `openapi.py`; the OpenAPI
document is assembled from all of them by lps_core.api.document.
"""
from lps_core.api.document import answer, problems
from lps_core.api.operations import Operation
from lps_core.cards.schemas import CardPath, LedgerQuery
from lps_core.earning.schemas import ReversalIn, TransactionIn, TransactionPath
from lps_core.members.schemas import ApprovalIn, EnrolmentIn, MemberPath

DECIMAL = {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$", "example": "380.00",
           "description": "An amount as a decimal string with 2 decimals"}

OPERATIONS = [
    Operation("api.openapi", "get", "getOpenApi", "This document", {"200": answer("OpenAPI 3.1 document")}),
    Operation("api.members", "post", "enrolMember", "Enrol a member (waits for approval)",
              {"201": answer("Enrolled, pending approval", "MemberStatus"), **problems(401, 403, 409, 413, 422)},
              scope="members", body=EnrolmentIn),
    Operation("api.member_approve", "post", "approveMember", "Approve a pending member and issue a card",
              {"200": answer("Approved", "Approval"), **problems(401, 403, 404, 409, 413, 422)},
              scope="members.approve", body=ApprovalIn, body_required=False, path=MemberPath),
    Operation("api.card", "get", "getCard", "Look a card up",
              {"200": answer("The card", "Card"), **problems(401, 403, 404)}, scope="cards.read", path=CardPath),
    Operation("api.card_ledger", "get", "getCardLedger", "A card's ledger, newest first",
              {"200": answer("A page of entries", "LedgerPage"), **problems(401, 403, 404)},
              scope="cards.read", path=CardPath, query=LedgerQuery),
    Operation("api.transactions", "post", "postTransaction", "Earn points for a bill",
              {"201": answer("Posted", "Transaction"),
               "200": answer("Replay of an earlier identical post", "Transaction"),
               **problems(401, 403, 409, 413, 422)},
              scope="transactions", body=TransactionIn,
              description="Idempotent on (outlet, bill_no): the same body again answers 200 with the first "
                          "result; another body with the same bill_no answers 409."),
    Operation("api.transaction", "get", "getTransaction", "A posted bill with its breakdown and refunds",
              {"200": answer("The transaction", "TransactionDetail"), **problems(401, 403, 404)},
              scope="transactions", path=TransactionPath),
    Operation("api.transaction_reversal", "post", "reverseTransaction",
              "Refund all or part of a bill; its points come back pro rata",
              {"201": answer("Reversed", "Reversal"),
               "200": answer("Replay of an earlier identical refund", "Reversal"),
               **problems(401, 403, 404, 409, 413, 422)},
              scope="transactions", body=ReversalIn, body_required=False, path=TransactionPath,
              description="Without `amount`, refunds what is left. Send a `refund_no` to make a partial refund "
                          "safe to retry; a whole refund without one is keyed 'full'."),
]

SCHEMAS = {
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
        "step": {"type": "string", "example": "formula",
                 "description": "formula, band, tier, card_type, promotion, cap, rounding or expired"},
        "rule": {"type": "string"}, "description": {"type": "string"}, "points": {"type": "integer"},
        "exact": {"type": "string", "example": "12.5",
                  "description": "The step's exact contribution, a fractional share, before the one rounding "
                                 "step (absent when the step rounds on its own)"}}},
    "Transaction": {"type": "object", "properties": {
        "id": {"type": "integer"}, "outlet": {"type": "string"}, "bill_no": {"type": "string"},
        "amount": DECIMAL, "points": {"type": "integer"}, "points_balance": {"type": "integer"},
        "breakdown": {"type": "array", "items": {"$ref": "#/components/schemas/BreakdownStep"}},
        "replayed": {"type": "boolean"}}},
    "TransactionDetail": {"type": "object", "properties": {
        "id": {"type": "integer"}, "outlet": {"type": "string"}, "bill_no": {"type": "string"},
        "card_no": {"type": "string"}, "amount": DECIMAL,
        "occurred_at": {"type": "string", "format": "date-time"}, "points": {"type": "integer"},
        "breakdown": {"type": "array", "items": {"$ref": "#/components/schemas/BreakdownStep"}},
        "refunds": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "integer"}, "refund_no": {"type": "string"}, "amount": DECIMAL,
            "points": {"type": "integer"}}}}}},
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
}
