"""The cards resource: look a card up and read its ledger, card type configuration, anonymous card sale,
status, replacement, PIN and renewal, and paid memberships (sale, renewal, cancellation)."""
from pyramid.view import view_config
from sqlalchemy import func, select

from lps_core.cards import lifecycle, membership
from lps_core.cards import types as card_types
from lps_core.cards.schemas import (
    AnonymousSaleIn,
    CardPath,
    CardTypeChangeIn,
    CardTypeIn,
    CardTypePath,
    LedgerQuery,
    PinChangeIn,
    RenewalIn,
    ReplacementIn,
    StatusChangeIn,
    card_no_named,
)
from lps_core.cards.membership_schemas import MembershipCancelIn, MembershipRenewalIn, MembershipSaleIn
from lps_core.cards.services import get_card
from lps_core.cards.models import Card, MembershipPeriod
from lps_core.earning.models import Bill
from lps_core.errors import NotFound, Unprocessable
from lps_core.http.document import answer, problems
from lps_core.http.operations import Operation, read_body, read_path, read_query
from lps_core.http.request import authenticate
from lps_core.ledger.models import POINTS, Account, LedgerEntry
from lps_core.members.services import require_card_holder_write
from lps_core.money import format_cents
from lps_core.operators.access import api_key_scope
from lps_core.outlets.models import Outlet
from lps_core.timeutil import isoformat


def includeme(config):
    # GET only, so that POST /api/v1/cards/anonymous reaches its own route.
    config.add_route("api.card", "/api/v1/cards/{card_no}", request_method="GET")
    config.add_route("api.card_ledger", "/api/v1/cards/{card_no}/ledger")
    config.add_route("api.card_types", "/api/v1/card-types")
    config.add_route("api.card_type", "/api/v1/card-types/{code}")
    config.add_route("api.card_anonymous", "/api/v1/cards/anonymous", request_method="POST")
    config.add_route("api.card_status", "/api/v1/cards/{card_no}/status")
    config.add_route("api.card_replace", "/api/v1/cards/{card_no}/replace")
    config.add_route("api.card_pin", "/api/v1/cards/{card_no}/pin")
    config.add_route("api.card_renew", "/api/v1/cards/{card_no}/renew")
    config.add_route("api.memberships", "/api/v1/memberships")
    config.add_route("api.card_membership", "/api/v1/cards/{card_no}/membership")
    config.add_route("api.card_membership_renewals", "/api/v1/cards/{card_no}/membership/renewals")
    config.add_route("api.card_membership_cancel", "/api/v1/cards/{card_no}/membership/cancel")
    config.add_api_operations(OPERATIONS, SCHEMAS)
    config.scan(__name__)


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
    Operation("api.card", "get", "getCard", "Look a card up",
              {"200": answer("The card", "Card"), **problems(401, 403, 404)}, scope="cards.read", path=CardPath),
    Operation("api.card_ledger", "get", "getCardLedger", "A card's ledger, newest first",
              {"200": answer("A page of entries", "LedgerPage"), **problems(401, 403, 404)},
              scope="cards.read", path=CardPath, query=LedgerQuery),
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
    Operation("api.memberships", "post", "sellMembership",
              "Sell a paid membership: a new card of the type, its fee settled with the tenders",
              {"201": answer("The membership", "Membership"), "200": answer("Replay of the same sale", "Membership"),
               **problems(401, 403, 404, 409, 413, 422)}, scope="cashier", body=MembershipSaleIn),
    Operation("api.card_membership", "get", "getMembership", "A paid membership card's periods",
              {"200": answer("The membership", "Membership"), **problems(401, 403, 404, 422)},
              scope="cards.read", path=CardPath),
    Operation("api.card_membership_renewals", "post", "renewMembership",
              "Renew a paid membership for the type's months, its fee settled with the tenders",
              {"201": answer("The membership", "Membership"), "200": answer("Replay of the same renewal", "Membership"),
               **problems(401, 403, 404, 409, 413, 422)}, scope="cashier", body=MembershipRenewalIn, path=CardPath),
    Operation("api.card_membership_cancel", "post", "cancelMembership",
              "Cancel a paid membership: the unused days refunded pro rata to the tenders, the card cancelled",
              {"200": answer("The membership, cancelled", "Membership"), **problems(401, 403, 404, 409, 413, 422)},
              scope="cashier", body=MembershipCancelIn, path=CardPath),
]

SCHEMAS = {
    "Card": {"type": "object", "properties": {
        "card_no": {"type": "string"}, "status": {"type": "string"}, "card_type": {"type": "string"},
        "member": {"type": "object", "nullable": True, "properties": {
            "id": {"type": "integer"}, "name": {"type": "string"}}},
        "tier": {"type": "string", "nullable": True},
        "points_balance": {"type": "integer"},
        "stored_value_balance": DECIMAL,
    }},
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
        "partner": {"type": "string", "nullable": True, "description": "Co-branded: the partner's code"},
        "serial_from": {"type": "integer", "nullable": True}, "serial_to": {"type": "integer", "nullable": True},
        "membership_fee": {**DECIMAL, "nullable": True}, "membership_months": {"type": "integer", "nullable": True},
        "membership_reminder_days": {"type": "integer", "nullable": True},
    }},
    "Membership": {"type": "object", "properties": {
        "card_no": {"type": "string"}, "card_type": {"type": "string"}, "member_id": {"type": "integer"},
        "status": {"type": "string", "description": "The card's status"}, "valid_to": TIMESTAMP,
        "refunded": {**DECIMAL, "description": "Cancellation only: what was refunded"},
        "periods": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "integer"}, "sale_no": {"type": "string"}, "kind": {"type": "string"},
            "status": {"type": "string"}, "starts_at": TIMESTAMP, "ends_at": TIMESTAMP, "fee": DECIMAL,
            "settlement_id": {"type": "integer"}, "refund": DECIMAL, "cancelled_at": TIMESTAMP,
            "reminded_at": TIMESTAMP}}},
        "replayed": {"type": "boolean"}}},
    "CardState": {"type": "object", "properties": {
        "card_no": {"type": "string"}, "status": {"type": "string"}, "card_type": {"type": "string"},
        "member_id": {"type": "integer", "nullable": True}, "valid_from": TIMESTAMP, "valid_to": TIMESTAMP,
        "status_reason": {"type": "string", "nullable": True}, "status_changed_at": TIMESTAMP,
        "pin_set": {"type": "boolean"}, "pin_locked_until": TIMESTAMP,
        "replaces": {"type": "string", "description": "Replacement only: the old card number"},
    }},
}


def card_state_json(card) -> dict:
    return {
        "card_no": card.card_no,
        "status": card.status,
        "card_type": card.card_type.code,
        "member_id": card.member_id,
        "valid_from": isoformat(card.valid_from) if card.valid_from else None,
        "valid_to": isoformat(card.valid_to) if card.valid_to else None,
        "status_reason": card.status_reason,
        "status_changed_at": isoformat(card.status_changed_at) if card.status_changed_at else None,
        "pin_set": card.pin_hash is not None,
        "pin_locked_until": isoformat(card.pin_locked_until) if card.pin_locked_until else None,
    }


@view_config(route_name="api.card_types", request_method="GET", require_csrf=False, renderer="json")
def list_card_types(request):
    authenticate(request, "cards.manage")
    return {"card_types": [card_types.card_type_json(row) for row in card_types.list_card_types(request.dbsession)]}


@view_config(route_name="api.card_types", request_method="POST", require_csrf=False, renderer="json")
def create_card_type(request):
    authenticate(request, "cards.manage")
    card_type = card_types.create_card_type(request.dbsession, read_body(request))
    request.response.status = 201
    return card_types.card_type_json(card_type)


@view_config(route_name="api.card_type", request_method="GET", require_csrf=False, renderer="json")
def get_card_type(request):
    authenticate(request, "cards.manage")
    return card_types.card_type_json(card_types.find_card_type(request.dbsession, read_path(request).code))


@view_config(route_name="api.card_type", request_method="PUT", require_csrf=False, renderer="json")
def update_card_type(request):
    authenticate(request, "cards.manage")
    code = read_path(request).code
    return card_types.card_type_json(card_types.update_card_type(request.dbsession, code, read_body(request)))


@view_config(route_name="api.card_anonymous", request_method="POST", require_csrf=False, renderer="json")
def sell_anonymous_card(request):
    outlet = authenticate(request, "cards.manage")
    sale = read_body(request)
    card = lifecycle.sell_anonymous_card(request.dbsession, sale.card_type, sale.pin,
                                         card_no=card_no_named(sale.card_no), outlet_id=outlet.id)
    request.response.status = 201
    return card_state_json(card)


@view_config(route_name="api.card_status", request_method="POST", require_csrf=False, renderer="json")
def change_status(request):
    outlet = authenticate(request, "cards.manage")
    card_no = read_path(request).card_no
    change = read_body(request)
    require_card_holder_write(request.dbsession, api_key_scope(outlet), card_no)
    return card_state_json(lifecycle.change_status(request.dbsession, card_no, change.status, change.reason))


@view_config(route_name="api.card_replace", request_method="POST", require_csrf=False, renderer="json")
def replace_card(request):
    outlet = authenticate(request, "cards.manage")
    old_no = read_path(request).card_no
    replacement = read_body(request)
    require_card_holder_write(request.dbsession, api_key_scope(outlet), old_no)
    card = lifecycle.replace_card(request.dbsession, old_no, replacement.reason,
                                  new_card_no=card_no_named(replacement.card_no), outlet_id=outlet.id)
    request.response.status = 201
    return {**card_state_json(card), "replaces": old_no}


@view_config(route_name="api.card_pin", request_method="POST", require_csrf=False, renderer="json")
def set_pin(request):
    outlet = authenticate(request, "cards.manage")
    card_no = read_path(request).card_no
    change = read_body(request)
    if change.reset:  # a staff reset, not the holder changing their own PIN: the member-write rule
        require_card_holder_write(request.dbsession, api_key_scope(outlet), card_no)
    card = lifecycle.set_pin(request.dbsession, card_no, change.pin, old_pin=change.old_pin, reset=change.reset)
    return card_state_json(card)


@view_config(route_name="api.card_renew", request_method="POST", require_csrf=False, renderer="json")
def renew_card(request):
    outlet = authenticate(request, "cards.manage")
    card_no = read_path(request).card_no
    renewal = read_body(request)
    require_card_holder_write(request.dbsession, api_key_scope(outlet), card_no)
    card = lifecycle.renew_card(request.dbsession, card_no, valid_to=renewal.valid_to, days=renewal.days)
    return card_state_json(card)


def membership_json(db, card, replayed=False, refunded=None) -> dict:
    doc = {"card_no": card.card_no, "card_type": card.card_type.code, "member_id": card.member_id,
           "status": card.status, "valid_to": isoformat(card.valid_to) if card.valid_to else None,
           "periods": [{"id": period.id, "sale_no": period.sale_no, "kind": period.kind, "status": period.status,
                        "starts_at": isoformat(period.starts_at), "ends_at": isoformat(period.ends_at),
                        "fee": format_cents(period.fee_cents), "settlement_id": period.settlement_id,
                        "refund": format_cents(period.refund_cents),
                        "cancelled_at": isoformat(period.cancelled_at) if period.cancelled_at else None,
                        "reminded_at": isoformat(period.reminded_at) if period.reminded_at else None}
                       for period in membership.periods_of_card(db, card.id)],
           "replayed": replayed}
    if refunded is not None:
        doc["refunded"] = format_cents(refunded)
    return doc


@view_config(route_name="api.memberships", request_method="POST", require_csrf=False, renderer="json")
def sell_membership(request):
    outlet = authenticate(request, "cashier")
    body = read_body(request)
    db = request.dbsession
    replayed = _sale_exists(db, outlet, body.sale_no)
    period = membership.sell_membership(db, request.plugins, request.programme, outlet, body.member_id, body.sale())
    request.response.status = 200 if replayed else 201
    return membership_json(db, db.get(Card, period.card_id), replayed)


@view_config(route_name="api.card_membership", request_method="GET", require_csrf=False, renderer="json")
def get_membership(request):
    authenticate(request, "cards.read")
    db = request.dbsession
    card = _membership_card(db, read_path(request).card_no)
    return membership_json(db, card)


@view_config(route_name="api.card_membership_renewals", request_method="POST", require_csrf=False, renderer="json")
def renew_membership(request):
    outlet = authenticate(request, "cashier")
    card_no = read_path(request).card_no
    body = read_body(request)
    db = request.dbsession
    replayed = _sale_exists(db, outlet, body.sale_no)
    period = membership.renew_membership(db, request.plugins, request.programme, outlet, card_no, body.sale())
    request.response.status = 200 if replayed else 201
    return membership_json(db, db.get(Card, period.card_id), replayed)


@view_config(route_name="api.card_membership_cancel", request_method="POST", require_csrf=False, renderer="json")
def cancel_membership(request):
    outlet = authenticate(request, "cashier")
    card_no = read_path(request).card_no
    body = read_body(request)
    db = request.dbsession
    require_card_holder_write(db, api_key_scope(outlet), card_no)
    cancelled = membership.cancel_membership(db, request.plugins, request.programme, card_no, reason=body.reason,
                                             operator=body.operator, api_key_id=outlet.api_key_id)
    card = db.scalar(select(Card).where(Card.card_no == cancelled.card_no))
    return membership_json(db, card, cancelled.replayed, cancelled.refund_cents)


def _sale_exists(db, outlet, sale_no) -> bool:
    return db.scalar(select(MembershipPeriod.id).where(MembershipPeriod.outlet_id == outlet.id,
                                                       MembershipPeriod.sale_no == sale_no)) is not None


def _membership_card(db, card_no) -> Card:
    card = db.scalar(select(Card).where(Card.card_no == card_no))
    if card is None:
        raise NotFound(f"card {card_no} is not known", {"card_no": "no such card"})
    if card.card_type.membership_fee_cents is None:
        raise Unprocessable(f"card {card_no} is not a paid membership", {"card_no": "not a paid membership"})
    return card


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
