"""Cashier API: look-up, settle, refund, and putting value on a card at the till."""
from pyramid.view import view_config

from lps_core.api.request import authenticate, int_param, json_body
from lps_core.cards.funds import deposit, repay_credit, top_up_uses
from lps_core.cashier import services
from lps_core.cashier.documents import balances_json, refund_json, settlement_document
from lps_core.cashier.lookup import look_up
from lps_core.cashier.models import Settlement, SettlementRefund
from lps_core.cashier.requests import clean_movement_request, clean_refund_request, clean_settle_request
from lps_core.errors import Forbidden, NotFound
from lps_core.money import format_cents
from lps_core.timeutil import utcnow


@view_config(route_name="api.cashier_lookup", request_method="GET", require_csrf=False, renderer="json")
def lookup(request):
    outlet = authenticate(request, "cashier")
    params = request.params
    matches = look_up(request.dbsession, outlet.code, utcnow(), card_no=params.get("card_no"),
                      phone=params.get("phone"), name=params.get("name"),
                      tz=request.registry["lps.programme"].timezone)
    return {"outlet": outlet.code, "matches": matches}


@view_config(route_name="api.settlements", request_method="POST", require_csrf=False, renderer="json")
def settle(request):
    outlet = authenticate(request, "cashier")
    settle_request = clean_settle_request(json_body(request))
    registry = request.registry
    result = services.settle_bill(request.dbsession, registry["lps.plugins"], registry["lps.programme"], outlet,
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
    settlement_id = int_param(request.matchdict["id"], "id")
    refund_request = clean_refund_request(json_body(request, optional=True))
    result = services.refund_settlement(request.dbsession, request.registry["lps.plugins"], outlet, settlement_id,
                                        refund_request)
    request.response.status = 200 if result.replayed else 201
    db = request.dbsession
    return {**refund_json(db.get(SettlementRefund, result.id)), "settlement": settlement_document(db, settlement_id),
            "replayed": result.replayed}


@view_config(route_name="api.card_deposits", request_method="POST", require_csrf=False, renderer="json")
def card_deposit(request):
    return _movement(request, "deposit_no", lambda db, card, card_type, outlet, body, at: deposit(
        db, card, card_type, outlet, deposit_no=body.reference_no, amount_cents=body.amount_cents,
        tender=body.tender, reference=body.reference, occurred_at=at))


@view_config(route_name="api.card_uses", request_method="POST", require_csrf=False, renderer="json")
def card_top_up(request):
    return _movement(request, "topup_no", lambda db, card, card_type, outlet, body, at: top_up_uses(
        db, card, card_type, outlet, topup_no=body.reference_no, uses=body.uses, price_cents=body.amount_cents,
        tender=body.tender, occurred_at=at), uses=True)


@view_config(route_name="api.card_repayments", request_method="POST", require_csrf=False, renderer="json")
def card_repayment(request):
    return _movement(request, "repayment_no", lambda db, card, card_type, outlet, body, at: repay_credit(
        db, card, card_type, outlet, repayment_no=body.reference_no, amount_cents=body.amount_cents,
        tender=body.tender, occurred_at=at))


def _movement(request, number_field, post, *, uses=False):
    outlet = authenticate(request, "cashier")
    body = clean_movement_request(json_body(request), number_field=number_field, uses=uses)
    at = body.occurred_at or utcnow()
    db = request.dbsession
    card, card_type = services.card_for_use(db, request.matchdict["card_no"], at,
                                            tz=request.registry["lps.programme"].timezone)
    movement = post(db, card, card_type, outlet, body, at)
    request.response.status = 200 if movement.replayed else 201
    answer = {"card_no": movement.card_no, number_field: movement.reference_no, "outlet": outlet.code,
              "balances": balances_json(movement.balances), "replayed": movement.replayed}
    if uses:
        answer.update(uses=movement.amount, amount=format_cents(body.amount_cents))
    else:
        answer["amount"] = format_cents(movement.amount)
    if movement.kind == "deposit":
        answer["bonus"] = format_cents(movement.bonus_cents)
    return answer


def _own_settlement(request, outlet) -> Settlement:
    settlement = request.dbsession.get(Settlement, int_param(request.matchdict["id"], "id"))
    if settlement is None:
        raise NotFound("no such settlement", {"id": "no such settlement"})
    if settlement.outlet_id != outlet.id:
        raise Forbidden("the settlement belongs to another outlet", {"id": "belongs to another outlet"})
    return settlement
