"""Cashier API: look-up, settle, refund, and putting value on a card at the till. Input is read
through the operations of lps_core.cashier.openapi, so it is validated by the schemas the document shows."""
from pyramid.view import view_config

from lps_core.api.operations import read_body, read_path, read_query
from lps_core.api.request import authenticate
from lps_core.cards.funds import deposit, repay_credit, top_up_uses
from lps_core.cashier import services
from lps_core.cashier.documents import balances_json, refund_json, settlement_document
from lps_core.cashier.lookup import look_up
from lps_core.cashier.models import Settlement, SettlementRefund
from lps_core.errors import NotFound
from lps_core.money import format_cents
from lps_core.timeutil import utcnow


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
    registry = request.registry
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
    answer = {"card_no": movement.card_no, number_field: movement.reference_no, "outlet": outlet.code,
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
