"""Exchange API views: quote, transfer, look one up, reverse (scope exchange); reconcile a period
with the partner's statement, list the mismatches and resolve one (scope exchange.reconcile). Thin:
read the input through the operation's schema, call a service, shape JSON."""
from datetime import datetime, time, timedelta

from pyramid.view import view_config

from lps_core.audit.services import Actor
from lps_core.errors import Unprocessable
from lps_core.exchange import reconciliation, services
from lps_core.exchange.models import (
    DONE,
    FAILED,
    MISMATCH_STATUSES,
    OPEN_STATUSES,
    PROBLEMS,
    RESOLUTIONS,
    STATUSES,
    ExchangeMismatch,
    PointTransfer,
)
from lps_core.exchange.schemas import (
    ExchangePath,
    MismatchPath,
    MismatchQuery,
    QuoteIn,
    ReconcileIn,
    ResolutionIn,
    ReversalIn,
    TransferIn,
    TransferPath,
    TransferQuery,
)
from lps_core.http.document import answer, problems
from lps_core.http.errors import problem
from lps_core.http.operations import Operation, read_body, read_path, read_query
from lps_core.http.request import authenticate
from lps_core.timeutil import isoformat


def includeme(config):
    config.add_route("api.exchange_quotes", "/api/v1/exchanges/{partner}/quotes")
    config.add_route("api.exchange_transfers", "/api/v1/exchanges/{partner}/transfers")
    config.add_route("api.exchange_transfer", "/api/v1/exchanges/{partner}/transfers/{reference}")
    config.add_route("api.exchange_transfer_reversal", "/api/v1/exchanges/{partner}/transfers/{reference}/reversal")
    config.add_route("api.exchange_reconciliations", "/api/v1/exchanges/{partner}/reconciliations")
    config.add_route("api.exchange_mismatches", "/api/v1/exchanges/{partner}/mismatches")
    config.add_route("api.exchange_mismatch_resolution", "/api/v1/exchanges/{partner}/mismatches/{id}/resolution")
    config.add_api_operations(OPERATIONS, SCHEMAS)
    config.scan(__name__)


TIMESTAMP = {"type": "string", "format": "date-time"}
NULLABLE_TIMESTAMP = {**TIMESTAMP, "nullable": True}
DIRECTION = {"type": "string", "enum": ["in", "out"]}
SWITCHED = "The partner must be switched on at the key's outlet (422 naming `partner` otherwise); an unknown partner is 404."

OPERATIONS = [
    Operation("api.exchange_quotes", "post", "quoteExchange", "What a transfer of so many points would move",
              {"200": answer("The quote", "ExchangeQuote"), **problems(401, 403, 404, 413, 422)},
              scope="exchange", body=QuoteIn, path=ExchangePath,
              description=f"{SWITCHED} An amount below the partner's minimum, off its step, or too small to "
                          "convert: 422 naming `points`. Nothing is recorded."),
    Operation("api.exchange_transfers", "post", "requestExchangeTransfer",
              "Move a member's points to the partner (out) or from it (in)",
              {"201": answer("Done: the partner confirmed and the points moved", "ExchangeTransfer"),
               "200": answer("A resend of a finished transfer: the transfer as recorded", "ExchangeTransfer"),
               "202": answer("Open (pending or unknown): the partner has not confirmed yet. An out transfer "
                             "holds its points. Send it again with the same reference later", "ExchangeTransfer"),
               **problems(401, 403, 404, 409, 413, 422)},
              scope="exchange", body=TransferIn, path=ExchangePath,
              description=f"{SWITCHED} Idempotent on (partner, direction, reference): a resend never posts twice; "
                          "the same reference with other content is 409. A transfer the partner refuses for good "
                          "answers 422 with the transfer (status failed) under `transfer`, its points given back. "
                          "Minimum, step and daily and monthly limits of the partner's settings: 422 naming "
                          "`points`; too few points: 409."),
    Operation("api.exchange_transfer", "get", "getExchangeTransfer", "One transfer, by the partner's reference",
              {"200": answer("The transfer", "ExchangeTransfer"), **problems(401, 403, 404, 422)},
              scope="exchange", path=TransferPath, query=TransferQuery,
              description="A transfer requested at another outlet answers 404, as an unknown one. `direction` is "
                          "needed only when the reference was used both ways (422 otherwise)."),
    Operation("api.exchange_transfer_reversal", "post", "reverseExchangeTransfer",
              "Undo a transfer at the partner and in the ledger",
              {"200": answer("Reversed (or already reversed)", "ExchangeTransfer"),
               "202": answer("The partner confirms the reversal later: send it again", "ExchangeTransfer"),
               **problems(401, 403, 404, 409, 413, 422)},
              scope="exchange", body=ReversalIn, body_required=False, path=TransferPath,
              description=f"{SWITCHED} Only the outlet the transfer was requested at may reverse it (404 "
                          "elsewhere). A failed transfer has nothing to reverse (409), nor has a transfer in whose "
                          "points the member has already spent (409). The partner refusing: 409; the partner "
                          "unreachable: 503, send it again. An open transfer may be reversed: that cancels it."),
]

RECONCILER = ("Needs the scope `exchange.reconcile`, for a back-office key: it covers every outlet's transfers with "
              "the partner.")

OPERATIONS += [
    Operation("api.exchange_reconciliations", "post", "reconcileExchange",
              "Compare the partner's statement of a period with LPS's transfers, and keep the mismatches",
              {"200": answer("The mismatches found now (open, or resolved before)", "ExchangeMismatches"),
               **problems(401, 403, 404, 413, 422)},
              scope="exchange.reconcile", body=ReconcileIn, path=ExchangePath,
              description=f"{RECONCILER} Days in the programme's time zone, both included. A mismatch found again "
                          "is the same mismatch (its id stays); an open one no longer found is `cleared`. With "
                          "`settle`, open transfers the statement shows booked are completed instead of reported. "
                          "The partner's statement not available: 503."),
    Operation("api.exchange_mismatches", "get", "listExchangeMismatches",
              "The mismatches found with the partner, for the periods overlapping the days asked",
              {"200": answer("The mismatches, newest first", "ExchangeMismatches"), **problems(401, 403, 404, 422)},
              scope="exchange.reconcile", query=MismatchQuery, path=ExchangePath, description=RECONCILER),
    Operation("api.exchange_mismatch_resolution", "post", "resolveExchangeMismatch",
              "Resolve a mismatch, with a linked adjustment of the member's points",
              {"200": answer("Resolved (or the same resolution sent again)", "ExchangeMismatch"),
               **problems(401, 403, 404, 409, 413, 422)},
              scope="exchange.reconcile", body=ResolutionIn, path=MismatchPath,
              description=f"{RECONCILER} A transfer LPS holds open is first finished as the statement shows it "
                          "(completed if booked there, failed with its points given back if not). Then `points` "
                          "other than 0 are posted to the member through the ledger (kind `exchange_adjustment`, "
                          "business key `exchange:<partner>:<direction>:<reference>:<problem>:adjustment`). "
                          "Audited. A mismatch with no transfer needs `card_no` to post points (422). The same "
                          "resolution again: 200 with the mismatch; another one for a resolved or cleared "
                          "mismatch: 409; a debit beyond the member's points: 409 naming `points`."),
]

SCHEMAS = {
    "ExchangeQuote": {"type": "object", "properties": {
        "partner": {"type": "string"}, "direction": DIRECTION,
        "points": {"type": "integer", "description": "LPS points moved"},
        "partner_points": {"type": "integer", "description": "The partner's points moved"},
        "rate": {"type": "string", "description": "The rate as the partner states it"},
    }},
    "ExchangeTransfer": {"type": "object", "properties": {
        "partner": {"type": "string"}, "direction": DIRECTION, "reference": {"type": "string"},
        "card_no": {"type": "string"}, "partner_member_no": {"type": "string"},
        "points": {"type": "integer", "description": "LPS points moved"},
        "partner_points": {"type": "integer"},
        "status": {"type": "string", "enum": list(STATUSES)},
        "attempts": {"type": "integer", "description": "How often the partner was asked"},
        "last_error": {"type": "string", "nullable": True},
        "partner_reference": {"type": "string", "nullable": True},
        "outlet": {"type": "string"},
        "requested_at": TIMESTAMP, "completed_at": NULLABLE_TIMESTAMP,
        "ledger_entry_id": {"type": "integer", "nullable": True},
        "reversal_entry_id": {"type": "integer", "nullable": True},
        "replayed": {"type": "boolean"},
        "reversal_pending": {"type": "boolean", "description": "Reversal: the partner confirms it later"},
    }},
    "ExchangeMismatch": {"type": "object", "properties": {
        "id": {"type": "integer"}, "partner": {"type": "string"}, "direction": DIRECTION,
        "reference": {"type": "string"}, "problem": {"type": "string", "enum": list(PROBLEMS)},
        "lps_partner_points": {"type": "integer", "nullable": True, "description": "What LPS recorded"},
        "statement_partner_points": {"type": "integer", "nullable": True, "description": "What the statement says"},
        "lps_points": {"type": "integer", "nullable": True},
        "partner_member_no": {"type": "string", "nullable": True},
        "transfer_status": {"type": "string", "nullable": True, "enum": [*STATUSES, None]},
        "suggested_points": {"type": "integer", "description": "The adjustment that would make LPS match the "
                                                              "statement, at the transfer's rate"},
        "period_start": TIMESTAMP, "period_end": TIMESTAMP, "found_at": TIMESTAMP, "last_seen_at": TIMESTAMP,
        "status": {"type": "string", "enum": list(MISMATCH_STATUSES)},
        "resolution": {"type": "string", "nullable": True, "enum": [*RESOLUTIONS, None]},
        "adjustment_points": {"type": "integer", "nullable": True},
        "ledger_entry_id": {"type": "integer", "nullable": True},
        "reason": {"type": "string", "nullable": True}, "resolved_by": {"type": "string", "nullable": True},
        "resolved_at": NULLABLE_TIMESTAMP, "replayed": {"type": "boolean"},
    }},
    "ExchangeMismatches": {"type": "object", "properties": {
        "mismatches": {"type": "array", "items": {"$ref": "#/components/schemas/ExchangeMismatch"}},
    }},
}


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


# -- reconciliation -----------------------------------------------------------------------------------

def mismatch_json(db, mismatch, replayed=False) -> dict:
    transfer = db.get(PointTransfer, mismatch.transfer_id) if mismatch.transfer_id else None
    return {
        "id": mismatch.id, "partner": mismatch.partner, "direction": mismatch.direction,
        "reference": mismatch.reference, "problem": mismatch.problem,
        "lps_partner_points": mismatch.lps_partner_points,
        "statement_partner_points": mismatch.statement_partner_points, "lps_points": mismatch.lps_points,
        "partner_member_no": mismatch.partner_member_no, "transfer_status": transfer.status if transfer else None,
        "suggested_points": reconciliation.suggested_points(mismatch, transfer),
        "period_start": isoformat(mismatch.period_start), "period_end": isoformat(mismatch.period_end),
        "found_at": isoformat(mismatch.found_at), "last_seen_at": isoformat(mismatch.last_seen_at),
        "status": mismatch.status, "resolution": mismatch.resolution,
        "adjustment_points": mismatch.adjustment_points, "ledger_entry_id": mismatch.entry_id,
        "reason": mismatch.reason, "resolved_by": mismatch.resolved_by,
        "resolved_at": isoformat(mismatch.resolved_at) if mismatch.resolved_at else None, "replayed": replayed,
    }


def period_of(programme, first_day, last_day) -> tuple[datetime | None, datetime | None]:
    """[start of the first day, start of the day after the last) in the programme's time zone."""
    start = datetime.combine(first_day, time(), tzinfo=programme.timezone) if first_day else None
    end = datetime.combine(last_day + timedelta(days=1), time(), tzinfo=programme.timezone) if last_day else None
    return start, end


def key_actor(request) -> Actor:
    key = request.verified_api_key
    return Actor.api_key(key.id, f"{key.prefix} ({key.label})" if key.label else key.prefix)


@view_config(route_name="api.exchange_reconciliations", request_method="POST", require_csrf=False,
             renderer="json")
def reconcile(request):
    authenticate(request, "exchange.reconcile")
    partner = read_path(request).partner
    body = read_body(request)
    db = request.dbsession
    services.exchange_of(request.plugins, partner)
    start, end = period_of(request.programme, body.first_day, body.last_day)
    found = reconciliation.record_reconciliation(db, request.plugins, request.programme, partner, start, end,
                                                 settle_open=body.settle)
    reconciliation.record_run(db, partner, start, end, found, actor=key_actor(request), address=request.client_addr)
    return {"mismatches": [mismatch_json(db, mismatch) for mismatch in found]}


@view_config(route_name="api.exchange_mismatches", request_method="GET", require_csrf=False, renderer="json")
def mismatches(request):
    authenticate(request, "exchange.reconcile")
    partner = read_path(request).partner
    query = read_query(request)
    db = request.dbsession
    start, end = period_of(request.programme, query.first_day, query.last_day)
    rows = db.scalars(reconciliation.mismatch_query(partner, start, end, query.status)
                      .order_by(ExchangeMismatch.id.desc()).limit(1000))
    return {"mismatches": [mismatch_json(db, mismatch) for mismatch in rows]}


@view_config(route_name="api.exchange_mismatch_resolution", request_method="POST", require_csrf=False,
             renderer="json")
def resolve(request):
    authenticate(request, "exchange.reconcile")
    path = read_path(request)
    body = read_body(request)
    db = request.dbsession
    resolved = reconciliation.resolve_mismatch(db, request.programme, path.id, body.resolution(),
                                               actor=key_actor(request), partner=path.partner,
                                               address=request.client_addr)
    return mismatch_json(db, resolved.mismatch, resolved.replayed)
