"""The transactions resource: a till posts a bill to earn points, reads it back, and reverses it."""
from pyramid.view import view_config
from sqlalchemy import select

from lps_core.cards.models import Card
from lps_core.earning import services as earning
from lps_core.earning.models import Bill, BillRefund
from lps_core.earning.schemas import ReversalIn, TransactionIn, TransactionPath
from lps_core.errors import NotFound
from lps_core.http.document import DECIMAL, answer, problems
from lps_core.http.operations import Operation, read_body, read_path
from lps_core.http.request import authenticate
from lps_core.ledger.models import LedgerEntry
from lps_core.ledger.services import EARN
from lps_core.money import format_cents
from lps_core.timeutil import isoformat


def includeme(config):
    config.add_route("api.transactions", "/api/v1/transactions")
    config.add_route("api.transaction", "/api/v1/transactions/{id}")
    config.add_route("api.transaction_reversal", "/api/v1/transactions/{id}/reversal")
    config.add_api_operations(OPERATIONS, SCHEMAS)
    config.scan(__name__)


OPERATIONS = [
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
}


@view_config(route_name="api.transactions", request_method="POST", require_csrf=False, renderer="json")
def post_transaction(request):
    outlet = authenticate(request, "transactions")
    earn_request = read_body(request).earn_request()
    earned = earning.earn_points_for_bill(request.dbsession, request.plugins, request.programme,
                                          outlet, earn_request)
    request.response.status = 200 if earned.replayed else 201
    return {
        "id": earned.id,
        "outlet": outlet.code,
        "bill_no": earned.bill_no,
        "amount": format_cents(earned.amount_cents),
        "points": earned.points,
        "points_balance": earned.points_balance,
        "breakdown": earned.breakdown,
        "replayed": earned.replayed,
    }


@view_config(route_name="api.transaction", request_method="GET", require_csrf=False, renderer="json")
def get_transaction(request):
    outlet = authenticate(request, "transactions")
    db = request.dbsession
    bill = db.get(Bill, read_path(request).id)
    if bill is None or bill.outlet_id != outlet.id:  # another outlet's bill is not there for this key
        raise NotFound("no such transaction", {"id": "no such transaction"})
    refunds = db.scalars(select(BillRefund).where(BillRefund.bill_id == bill.id).order_by(BillRefund.id)).all()
    breakdown = db.scalar(select(LedgerEntry.breakdown).where(LedgerEntry.bill_id == bill.id,
                                                              LedgerEntry.kind == EARN))
    return {
        "id": bill.id,
        "outlet": outlet.code,
        "bill_no": bill.bill_no,
        "card_no": db.scalar(select(Card.card_no).where(Card.id == bill.card_id)),
        "amount": format_cents(bill.amount_cents),
        "occurred_at": isoformat(bill.occurred_at),
        "points": bill.points,
        "breakdown": breakdown or [],
        "refunds": [{"id": r.id, "refund_no": r.refund_no, "amount": format_cents(r.amount_cents),
                     "points": r.points} for r in refunds],
    }


@view_config(route_name="api.transaction_reversal", request_method="POST", require_csrf=False, renderer="json")
def reverse_transaction(request):
    outlet = authenticate(request, "transactions")
    bill_id = read_path(request).id
    body = read_body(request)
    refund = earning.reverse_bill(request.dbsession, request.plugins, outlet, bill_id,
                                  amount_cents=body.amount, refund_no=body.refund_no)
    request.response.status = 200 if refund.replayed else 201
    return {
        "id": refund.id,
        "transaction_id": refund.bill_id,
        "refund_no": refund.refund_no,
        "amount": format_cents(refund.amount_cents),
        "points": refund.points,
        "points_balance": refund.points_balance,
        "replayed": refund.replayed,
    }
