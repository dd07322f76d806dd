"""API views: authenticate, parse, call one service, shape the JSON answer. No rules live here."""
import json

from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy import func, select

from lps_core.api.openapi import DOCUMENT
from lps_core.api.request import authenticate, int_param, json_body
from lps_core.cards.models import Card
from lps_core.cards.services import get_card
from lps_core.earning import services as earning
from lps_core.earning.models import Bill, BillRefund
from lps_core.errors import Forbidden, NotFound, ValidationFailed
from lps_core.ledger.models import POINTS, STORED_VALUE, Account, LedgerEntry
from lps_core.ledger.services import EARN
from lps_core.members import services as members
from lps_core.money import format_cents, parse_amount
from lps_core.outlets.models import Outlet
from lps_core.timeutil import isoformat

OPENAPI = json.dumps(DOCUMENT, indent=2).encode()


@view_config(route_name="api.openapi", request_method="GET", require_csrf=False)
def openapi(request):
    return Response(body=OPENAPI, content_type="application/json")


@view_config(route_name="api.members", request_method="POST", require_csrf=False, renderer="json")
def enrol_member(request):
    outlet = authenticate(request, "members")
    enrolment = members.clean_enrolment(json_body(request))
    member_id = members.enrol_member(request.dbsession, enrolment, outlet_id=outlet.id)
    request.response.status = 201
    return {"id": member_id, "status": "pending"}


@view_config(route_name="api.member_approve", request_method="POST", require_csrf=False, renderer="json")
def approve_member(request):
    authenticate(request, "members.approve")
    member_id = int_param(request.matchdict["id"], "id")
    body = json_body(request, optional=True)
    card_type = body.get("card_type")
    if card_type is not None and not isinstance(card_type, str):
        raise ValidationFailed("card_type must be a card type code", {"card_type": "must be text"})
    card_no = members.approve_member(request.dbsession, member_id, card_type_code=card_type,
                                     issuance=request.registry.settings["lps.cards.issuance"],
                                     programme=request.registry["lps.programme"])
    return {"id": member_id, "status": "active", "card_no": card_no}


@view_config(route_name="api.card", request_method="GET", require_csrf=False, renderer="json")
def card(request):
    authenticate(request, "cards.read")
    card = get_card(request.dbsession, request.matchdict["card_no"])
    return {
        "card_no": card.card_no,
        "status": card.status,
        "card_type": card.card_type_code,
        "member": {"id": card.member_id, "name": card.member_name} if card.member_id else None,
        "tier": card.tier_code,
        "points_balance": card.points_balance,
        "stored_value_balance": format_cents(card.stored_value_balance),
    }


@view_config(route_name="api.card_ledger", request_method="GET", require_csrf=False, renderer="json")
def card_ledger(request):
    authenticate(request, "cards.read")
    card = get_card(request.dbsession, request.matchdict["card_no"])
    account_kind = request.params.get("account", POINTS)
    if account_kind not in (POINTS, STORED_VALUE):
        raise ValidationFailed("account must be points or stored_value", {"account": "must be points or stored_value"})
    page = int_param(request.params.get("page"), "page", default=1)
    per_page = int_param(request.params.get("per_page"), "per_page", maximum=200, default=50)
    owner = Account.member_id == card.member_id if account_kind == POINTS else Account.card_id == card.card_id
    db = request.dbsession
    account_id = db.scalar(select(Account.id).where(owner, Account.kind == account_kind))
    entries = select(LedgerEntry).where(LedgerEntry.account_id == account_id)
    total = db.scalar(select(func.count()).select_from(entries.subquery())) if account_id else 0
    rows = db.execute(
        entries.add_columns(Outlet.code, Bill.bill_no)
        .outerjoin(Outlet, Outlet.id == LedgerEntry.outlet_id).outerjoin(Bill, Bill.id == LedgerEntry.bill_id)
        .order_by(LedgerEntry.id.desc()).limit(per_page).offset((page - 1) * per_page)
    ).all() if account_id else []
    money = account_kind == STORED_VALUE
    return {
        "card_no": card.card_no,
        "account": account_kind,
        "page": page,
        "per_page": per_page,
        "total": total,
        "entries": [_entry_json(entry, outlet_code, bill_no, money) for entry, outlet_code, bill_no in rows],
    }


@view_config(route_name="api.transactions", request_method="POST", require_csrf=False, renderer="json")
def post_transaction(request):
    outlet = authenticate(request, "transactions")
    earn_request = earning.clean_earn_request(json_body(request))
    registry = request.registry
    earned = earning.earn_points_for_bill(request.dbsession, registry["lps.plugins"], registry["lps.programme"],
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
    bill = db.get(Bill, int_param(request.matchdict["id"], "id"))
    if bill is None:
        raise NotFound("no such transaction", {"id": "no such transaction"})
    if bill.outlet_id != outlet.id:
        raise Forbidden("the transaction belongs to another outlet", {"id": "belongs to another outlet"})
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
    bill_id = int_param(request.matchdict["id"], "id")
    body = json_body(request, optional=True)
    errors = {name: "is not a known field" for name in set(body) - {"amount", "refund_no"}}
    amount_cents = None
    if body.get("amount") is not None:
        try:
            amount_cents = parse_amount(body["amount"])
        except ValueError as exc:
            errors["amount"] = str(exc)
    refund_no = body.get("refund_no")
    if refund_no is not None and (not isinstance(refund_no, str) or not 0 < len(refund_no.strip()) <= 64):
        errors["refund_no"] = "must be text of 1 to 64 characters"
    if errors:
        raise ValidationFailed("the reversal has invalid fields", errors)
    refund = earning.reverse_bill(request.dbsession, request.registry["lps.plugins"], outlet, bill_id,
                                  amount_cents=amount_cents, refund_no=refund_no and refund_no.strip())
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


def _entry_json(entry, outlet_code, bill_no, money):
    def value(amount):
        return format_cents(amount) if money else amount

    return {
        "id": entry.id,
        "kind": entry.kind,
        "amount": value(entry.amount),
        "balance_after": value(entry.balance_after),
        "occurred_at": isoformat(entry.occurred_at),
        "outlet": outlet_code,
        "bill_no": bill_no,
        "reverses": entry.reverses_id,
        "breakdown": entry.breakdown or [],
        "note": entry.note,
    }
