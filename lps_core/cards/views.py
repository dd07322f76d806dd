"""Card API views: card type configuration, anonymous card sale, status, replacement, PIN and
renewal. Thin: authenticate, read and check the body, call a service, shape JSON."""
from pyramid.view import view_config

from lps_core.api.request import authenticate, json_body
from lps_core.cards import lifecycle
from lps_core.cards import types as card_types
from lps_core.cards.pins import clean_pin
from lps_core.errors import ValidationFailed
from lps_core.timeutil import isoformat, parse_timestamp

REASON_MAX = 200
MAX_RENEWAL_DAYS = 36_600


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
    card_type = card_types.create_card_type(request.dbsession, json_body(request))
    request.response.status = 201
    return card_types.card_type_json(card_type)


@view_config(route_name="api.card_type", request_method="GET", require_csrf=False, renderer="json")
def get_card_type(request):
    authenticate(request, "cards.manage")
    return card_types.card_type_json(card_types.find_card_type(request.dbsession, request.matchdict["code"]))


@view_config(route_name="api.card_type", request_method="PUT", require_csrf=False, renderer="json")
def update_card_type(request):
    authenticate(request, "cards.manage")
    body = json_body(request)
    return card_types.card_type_json(card_types.update_card_type(request.dbsession, request.matchdict["code"], body))


@view_config(route_name="api.card_anonymous", request_method="POST", require_csrf=False, renderer="json")
def sell_anonymous_card(request):
    outlet = authenticate(request, "cards.manage")
    body = json_body(request)
    problems = _unknown(body, ("card_type", "pin", "card_no"))
    card_type = _collect(problems, "card_type", lambda: _text(body.get("card_type"), 32))
    pin = _collect(problems, "pin", lambda: clean_pin(body.get("pin")))
    if "card_no" in body and not isinstance(body["card_no"], str):
        problems["card_no"] = "must be a card number"
    _raise(problems)
    card = lifecycle.sell_anonymous_card(request.dbsession, card_type, pin, card_no=body.get("card_no"),
                                         outlet_id=outlet.id)
    request.response.status = 201
    return card_state_json(card)


@view_config(route_name="api.card_status", request_method="POST", require_csrf=False, renderer="json")
def change_status(request):
    authenticate(request, "cards.manage")
    body = json_body(request)
    problems = _unknown(body, ("status", "reason"))
    status = body.get("status")
    if status not in lifecycle.STAFF_STATUSES:
        problems["status"] = f"must be one of {', '.join(lifecycle.STAFF_STATUSES)}"
    reason = _collect(problems, "reason", lambda: _text(body.get("reason"), REASON_MAX))
    _raise(problems)
    return card_state_json(lifecycle.change_status(request.dbsession, request.matchdict["card_no"], status, reason))


@view_config(route_name="api.card_replace", request_method="POST", require_csrf=False, renderer="json")
def replace_card(request):
    outlet = authenticate(request, "cards.manage")
    body = json_body(request)
    problems = _unknown(body, ("reason", "card_no"))
    reason = _collect(problems, "reason", lambda: _text(body.get("reason"), REASON_MAX))
    if "card_no" in body and not isinstance(body["card_no"], str):
        problems["card_no"] = "must be a card number"
    _raise(problems)
    old_no = request.matchdict["card_no"]
    card = lifecycle.replace_card(request.dbsession, old_no, reason, new_card_no=body.get("card_no"),
                                  outlet_id=outlet.id)
    request.response.status = 201
    return {**card_state_json(card), "replaces": lifecycle.normalize_card_no(old_no)}


@view_config(route_name="api.card_pin", request_method="POST", require_csrf=False, renderer="json")
def set_pin(request):
    authenticate(request, "cards.manage")
    body = json_body(request)
    problems = _unknown(body, ("pin", "old_pin", "reset"))
    pin = _collect(problems, "pin", lambda: clean_pin(body.get("pin")))
    reset = body.get("reset", False)
    if not isinstance(reset, bool):
        problems["reset"] = "must be true or false"
    old_pin = body.get("old_pin")
    if old_pin is not None and not isinstance(old_pin, str):
        problems["old_pin"] = "must be the current PIN as a string"
    _raise(problems)
    card = lifecycle.set_pin(request.dbsession, request.matchdict["card_no"], pin, old_pin=old_pin, reset=reset)
    return card_state_json(card)


@view_config(route_name="api.card_renew", request_method="POST", require_csrf=False, renderer="json")
def renew_card(request):
    authenticate(request, "cards.manage")
    body = json_body(request)
    problems = _unknown(body, ("valid_to", "days"))
    valid_to = days = None
    if ("valid_to" in body) == ("days" in body):
        problems["valid_to"] = problems["days"] = "give exactly one of valid_to and days"
    elif "valid_to" in body:
        valid_to = _collect(problems, "valid_to", lambda: parse_timestamp(body["valid_to"]))
    else:
        days = body["days"]
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_RENEWAL_DAYS:
            problems["days"] = f"must be a whole number from 1 to {MAX_RENEWAL_DAYS}"
    _raise(problems)
    card = lifecycle.renew_card(request.dbsession, request.matchdict["card_no"], valid_to=valid_to, days=days)
    return card_state_json(card)


def _unknown(body, known) -> dict:
    return {name: "unknown field" for name in body if name not in known}


def _collect(problems, field, read):
    """The value `read` returns, or None with its problem noted under `field`."""
    try:
        return read()
    except ValidationFailed as failure:
        problems.update(failure.fields or {field: failure.message})
    except ValueError as bad:
        problems[field] = str(bad)
    return None


def _text(value, max_length):
    if value is None:
        raise ValueError("is required")
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be non-empty text")
    if len(value.strip()) > max_length:
        raise ValueError(f"must be at most {max_length} characters")
    return value.strip()


def _raise(problems):
    if problems:
        raise ValidationFailed("invalid fields: " + ", ".join(sorted(problems)), problems)
