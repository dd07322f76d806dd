"""API views: authenticate, parse, call one service, shape the JSON answer. No rules live here."""
from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy import func, select

from lps_core.api.document import document_bytes
from lps_core.api.operations import operations_of, read_body, read_path, read_query
from lps_core.api.request import authenticate
from lps_core.cards.models import Card
from lps_core.cards.services import get_card
from lps_core.earning import services as earning
from lps_core.earning.models import Bill, BillRefund
from lps_core.errors import NotFound, Unprocessable, ValidationFailed
from lps_core.ledger.models import POINTS, Account, LedgerEntry
from lps_core.ledger.services import EARN
from lps_core.members import services as members
from lps_core.members.models import Member
from lps_core.money import format_cents
from lps_core.operators.access import api_key_scope, require_member_write
from lps_core.outlets.models import Outlet
from lps_core.pii import phone_region_of
from lps_core.timeutil import isoformat


@view_config(route_name="api.openapi", request_method="GET", require_csrf=False)
def openapi(request):
    """Built from the declared operations once every feature and plugin is included; needs no database."""
    operations = operations_of(request.registry)
    if operations.document is None:
        operations.document = document_bytes(request.registry)
    return Response(body=operations.document, content_type="application/json")


@view_config(route_name="api.members", request_method="POST", require_csrf=False, renderer="json")
def enrol_member(request):
    outlet = authenticate(request, "members")
    body = read_body(request)
    fields = body.model_dump(exclude_none=True, exclude={"force_duplicate_phone"})
    if "birthday" in fields:
        fields["birthday"] = fields["birthday"].isoformat()
    try:
        enrolment = members.clean_enrolment(fields, phone_region=phone_region_of(request.dbsession))
    except ValidationFailed as exc:  # the body matched its schema: what the domain refuses now is 422
        raise Unprocessable(exc.message, exc.fields) from None
    member_id = members.enrol_member(request.dbsession, enrolment, outlet_id=outlet.id,
                                     force_duplicate_phone=body.force_duplicate_phone)
    request.response.status = 201
    return {"id": member_id, "status": "pending"}


@view_config(route_name="api.member_approve", request_method="POST", require_csrf=False, renderer="json")
def approve_member(request):
    outlet = authenticate(request, "members.approve")
    member_id = read_path(request).id
    card_type = read_body(request).card_type
    home_outlet_id = request.dbsession.scalar(select(Member.enrolled_outlet_id).where(Member.id == member_id))
    require_member_write(api_key_scope(outlet), member_id, home_outlet_id)
    card_no = members.approve_member(request.dbsession, member_id, card_type_code=card_type,
                                     issuance=request.lps_settings.card_issuance,
                                     programme=request.programme, plugins=request.plugins)
    return {"id": member_id, "status": "active", "card_no": card_no}


@view_config(route_name="api.card", request_method="GET", require_csrf=False, renderer="json")
def card(request):
    authenticate(request, "cards.read")
    card = get_card(request.dbsession, read_path(request).card_no)
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
    card = get_card(request.dbsession, read_path(request).card_no)
    query = read_query(request)
    account_kind, page, per_page = query.account, query.page, query.per_page
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
    money = account_kind != POINTS
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
    earn_request = read_body(request).earn_request()
    registry = request.registry
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
