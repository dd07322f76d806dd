"""Cashier API: look-up, settle, refund, and putting value on a card at the till. Input is read
through the operations of lps_core.cashier.openapi, so it is validated by the schemas the document shows."""
from pyramid.view import view_config

from lps_core.cards.funds import deposit, repay_credit, top_up_uses
from lps_core.cards.schemas import CardPath
from lps_core.cashier import services
from lps_core.cashier.documents import balances_json, refund_json, settlement_document
from lps_core.cashier.lookup import look_up
from lps_core.cashier.models import Settlement, SettlementRefund
from lps_core.cashier.schemas import (
    CreditRepaymentIn,
    DepositIn,
    LookupQuery,
    RefundIn,
    SettleIn,
    SettlementPath,
    UsesTopUpIn,
)
from lps_core.errors import NotFound
from lps_core.http.document import DECIMAL, answer, problems
from lps_core.http.operations import Operation, read_body, read_path, read_query
from lps_core.http.request import authenticate
from lps_core.money import format_cents
from lps_core.timeutil import utcnow


def includeme(config):
    config.add_route("api.cashier_lookup", "/api/v1/cashier/lookup")
    config.add_route("api.settlements", "/api/v1/settlements")
    config.add_route("api.settlement", "/api/v1/settlements/{id}")
    config.add_route("api.settlement_refunds", "/api/v1/settlements/{id}/refunds")
    config.add_route("api.card_deposits", "/api/v1/cards/{card_no}/deposits")
    config.add_route("api.card_uses", "/api/v1/cards/{card_no}/uses")
    config.add_route("api.card_repayments", "/api/v1/cards/{card_no}/credit-repayments")
    config.add_api_operations(OPERATIONS, SCHEMAS)
    config.scan(__name__)


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
            "valid_to": {"type": "string", "nullable": True}, "pin_needed": {"type": "boolean"},
            "coupons": {"type": "array", "description": "The holder's coupons usable now at this outlet, soonest "
                                                        "to expire first (docs/coupons.md)",
                        "items": {"type": "object"}}}}}}},
    "CardMovement": {"type": "object", "properties": {
        "id": {"type": "integer", "description": "the ledger entry; its receipt is /api/v1/receipts/card_movement/{id}"},
        "card_no": {"type": "string"}, "outlet": {"type": "string"}, "deposit_no": {"type": "string"},
        "topup_no": {"type": "string"}, "repayment_no": {"type": "string"}, "amount": DECIMAL,
        "bonus": DECIMAL, "uses": {"type": "integer"}, "balances": BALANCES, "replayed": {"type": "boolean"}}},
}


@view_config(route_name="api.cashier_lookup", request_method="GET", require_csrf=False, renderer="json")
def lookup(request):
    outlet = authenticate(request, "cashier")
    query = read_query(request)
    matches = look_up(request.dbsession, outlet.code, utcnow(), card_no=query.card_no, phone=query.phone,
                      name=query.name, tz=request.programme.timezone)
    return {"outlet": outlet.code, "matches": matches}


@view_config(route_name="api.settlements", request_method="POST", require_csrf=False, renderer="json")
def settle(request):
    outlet = authenticate(request, "cashier")
    settle_request = read_body(request).settle_request()
    result = services.settle_bill(request.dbsession, request.plugins, request.programme, outlet,
                                  settle_request)
    request.response.status = 200 if result.replayed else 201
    return {**settlement_document(request.dbsession, result.id), "replayed": result.replayed}


@view_config(route_name="api.settlement", request_method="GET", require_csrf=False, renderer="json")
def get_settlement(request):
    outlet = authenticate(request, "cashier")
    return settlement_document(request.dbsession, _own_settlement(request, outlet).id)


@view_config(route_name="api.settlement_refunds", request_method="POST", require_csrf=False, renderer="json")
def refund(request):
    outlet = authenticate(request, "cashier")
    settlement_id = _own_settlement(request, outlet).id
    refund_request = read_body(request).refund_request()
    result = services.refund_settlement(request.dbsession, request.plugins, outlet, settlement_id,
                                        refund_request)
    request.response.status = 200 if result.replayed else 201
    db = request.dbsession
    return {**refund_json(db.get(SettlementRefund, result.id)), "settlement": settlement_document(db, settlement_id),
            "replayed": result.replayed}


@view_config(route_name="api.card_deposits", request_method="POST", require_csrf=False, renderer="json")
def card_deposit(request):
    return _movement(request, "deposit_no", "deposit", lambda db, card, card_type, outlet, body, at, limits: deposit(
        db, card, card_type, outlet, deposit_no=body.reference_no, amount_cents=body.amount_cents,
        tender=body.tender, reference=body.reference, occurred_at=at, limits=limits))


@view_config(route_name="api.card_uses", request_method="POST", require_csrf=False, renderer="json")
def card_top_up(request):
    return _movement(request, "topup_no", "top_up", lambda db, card, card_type, outlet, body, at, limits: top_up_uses(
        db, card, card_type, outlet, topup_no=body.reference_no, uses=body.uses, price_cents=body.amount_cents,
        tender=body.tender, occurred_at=at, limits=limits))


@view_config(route_name="api.card_repayments", request_method="POST", require_csrf=False, renderer="json")
def card_repayment(request):
    return _movement(request, "repayment_no", "repay", lambda db, card, card_type, outlet, body, at, limits: repay_credit(
        db, card, card_type, outlet, repayment_no=body.reference_no, amount_cents=body.amount_cents,
        tender=body.tender, occurred_at=at, limits=limits))


def _movement(request, number_field, purpose, post):
    outlet = authenticate(request, "cashier")
    card_no = read_path(request).card_no
    body = read_body(request).movement()
    at = body.occurred_at or utcnow()
    db, programme = request.dbsession, request.programme
    card, card_type = services.card_for_use(db, card_no, at, tz=programme.timezone, purpose=purpose)
    movement = post(db, card, card_type, outlet, body, at, programme.limits)
    request.response.status = 200 if movement.replayed else 201
    answer = {"id": movement.entry_id, "card_no": movement.card_no, number_field: movement.reference_no,
              "outlet": outlet.code,
              "balances": balances_json(movement.balances), "replayed": movement.replayed}
    if body.uses is not None:
        answer.update(uses=movement.amount, amount=format_cents(body.amount_cents))
    else:
        answer["amount"] = format_cents(movement.amount)
    if movement.kind == "deposit":
        answer["bonus"] = format_cents(movement.bonus_cents)
    return answer


def _own_settlement(request, outlet) -> Settlement:
    """The settlement of the path, if it is this outlet's: another outlet's answers as an unknown one."""
    settlement_id = read_path(request).id
    settlement = request.dbsession.get(Settlement, settlement_id)
    if settlement is None or settlement.outlet_id != outlet.id:
        raise NotFound(f"no settlement {settlement_id} at this outlet", {"id": "no such settlement"})
    return settlement
