"""Card API views: card type configuration, anonymous card sale, status, replacement, PIN and
renewal. Thin: authenticate, read the input through its operation's schema, call a service, shape JSON."""
from pyramid.view import view_config

from lps_core.api.operations import read_body, read_path
from lps_core.api.request import authenticate
from lps_core.cards import lifecycle
from lps_core.cards import types as card_types
from lps_core.cards.schemas import card_no_named
from lps_core.members.services import require_card_holder_write
from lps_core.operators.access import api_key_scope
from lps_core.timeutil import isoformat


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
