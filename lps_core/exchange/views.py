"""Exchange API views (scope exchange): quote, transfer, look one up, reverse. Thin: read the input
through the operation's schema, call a service, shape JSON."""
from pyramid.view import view_config

from lps_core.api.errors import problem
from lps_core.api.operations import read_body, read_path, read_query
from lps_core.api.request import authenticate
from lps_core.errors import Unprocessable
from lps_core.exchange import services
from lps_core.exchange.models import DONE, FAILED, OPEN_STATUSES
from lps_core.timeutil import isoformat


def transfer_json(db, result) -> dict:
    transfer = result.transfer
    return {
        "partner": transfer.partner, "direction": transfer.direction, "reference": transfer.reference,
        "card_no": services.card_no_of(db, transfer), "partner_member_no": transfer.partner_member_no,
        "points": transfer.lps_points, "partner_points": transfer.partner_points, "status": transfer.status,
        "attempts": transfer.attempts, "last_error": transfer.last_error,
        "partner_reference": transfer.partner_reference, "outlet": services.outlet_code_of(db, transfer),
        "requested_at": isoformat(transfer.requested_at),
        "completed_at": isoformat(transfer.completed_at) if transfer.completed_at else None,
        "ledger_entry_id": transfer.entry_id, "reversal_entry_id": transfer.reversal_entry_id,
        "replayed": result.replayed, "reversal_pending": result.reversal_pending,
    }


@view_config(route_name="api.exchange_quotes", request_method="POST", require_csrf=False, renderer="json")
def quote(request):
    outlet = authenticate(request, "exchange")
    partner = read_path(request).partner
    body = read_body(request)
    quoted = services.quote(request.dbsession, request.plugins, outlet, partner, body.direction, body.points)
    return {"partner": partner, "direction": quoted.direction, "points": quoted.lps_points,
            "partner_points": quoted.partner_points, "rate": quoted.rate}


@view_config(route_name="api.exchange_transfers", request_method="POST", require_csrf=False, renderer="json")
def transfer(request):
    """201 done, 200 a finished transfer resent, 202 open, 422 refused for good. Each answer commits
    what it recorded: a refused transfer stays on record with its points given back."""
    outlet = authenticate(request, "exchange")
    partner = read_path(request).partner
    body = read_body(request)
    db = request.dbsession
    result = services.request_transfer(db, request.plugins, request.programme, outlet, body.request(partner))
    answer = transfer_json(db, result)
    status = result.transfer.status
    if status == FAILED:
        field = result.failed_field or "reference"
        refused = Unprocessable(f"the exchange partner refused the transfer: {result.transfer.last_error}",
                                {field: result.transfer.last_error})
        return {**problem(request, refused), "transfer": answer}
    if status in OPEN_STATUSES:
        request.response.status = 202
    elif status == DONE and not result.replayed:
        request.response.status = 201
    return answer


@view_config(route_name="api.exchange_transfer", request_method="GET", require_csrf=False, renderer="json")
def get_transfer(request):
    outlet = authenticate(request, "exchange")
    path = read_path(request)
    direction = read_query(request).direction
    db = request.dbsession
    found = services.find_transfer(db, path.partner, path.reference, outlet.id, direction)
    return transfer_json(db, services.TransferResult(found))


@view_config(route_name="api.exchange_transfer_reversal", request_method="POST", require_csrf=False,
             renderer="json")
def reverse(request):
    outlet = authenticate(request, "exchange")
    path = read_path(request)
    body = read_body(request)
    db = request.dbsession
    result = services.reverse_transfer(db, request.plugins, outlet, path.partner, path.reference, body.direction)
    if result.reversal_pending:
        request.response.status = 202
    return transfer_json(db, result)
