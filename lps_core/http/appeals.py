"""Points appeals API views (scope appeals): list and search the key's outlet's appeals, read one,
file one on a member's behalf, approve, reject. Thin: read the input through the operation's
schema, call lps_core.appeals.services (which audits), shape JSON."""
from pyramid.view import view_config

from lps_core.appeals import services
from lps_core.appeals.models import BY_API, STATUSES
from lps_core.appeals.schemas import AppealIn, AppealPath, AppealSearch, ApproveIn, RejectIn
from lps_core.audit.services import Actor
from lps_core.http.document import answer, problems
from lps_core.http.operations import Operation, read_body, read_path, read_query
from lps_core.http.request import authenticate
from lps_core.money import format_cents
from lps_core.timeutil import isoformat, utcnow

SCOPE = "appeals"


def includeme(config):
    config.add_route("api.appeals", "/api/v1/appeals")
    config.add_route("api.appeal", "/api/v1/appeals/{id}")
    config.add_route("api.appeal_approve", "/api/v1/appeals/{id}/approve")
    config.add_route("api.appeal_reject", "/api/v1/appeals/{id}/reject")
    config.add_api_operations(OPERATIONS, SCHEMAS)
    config.scan(__name__)


TIMESTAMP = {"type": "string", "format": "date-time"}
NULLABLE_TIMESTAMP = {**TIMESTAMP, "nullable": True}
DECIMAL = {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$", "example": "388.00"}

OPERATIONS = [
    Operation("api.appeals", "get", "listAppeals", "Search the appeals about the key's outlet's bills",
              {"200": answer("A page of appeals, the first due first", "AppealPage"), **problems(401, 403, 422)},
              scope=SCOPE, query=AppealSearch, description="A date after today is 422 naming it."),
    Operation("api.appeals", "post", "fileAppeal", "File an appeal on a member's behalf about a bill of the key's outlet",
              {"201": answer("Filed", "Appeal"), "200": answer("A retry of a filed appeal (same request_key)", "Appeal"),
               **problems(401, 403, 404, 409, 413, 422)},
              scope=SCOPE, body=AppealIn,
              description="An appeal about a bill that already has an open appeal is 409 naming bill_no. "
                          "A bill dated further back than postings may be is 422 naming bill_date."),
    Operation("api.appeal", "get", "getAppeal", "One appeal of the key's outlet",
              {"200": answer("The appeal", "Appeal"), **problems(401, 403, 404)},
              scope=SCOPE, path=AppealPath, description="Another outlet's appeal answers 404, like an unknown id."),
    Operation("api.appeal_approve", "post", "approveAppeal", "Approve an appeal: post the bill, or link and correct it",
              {"200": answer("Approved (or already approved)", "Appeal"), **problems(401, 403, 404, 409, 413, 422)},
              scope=SCOPE, path=AppealPath, body=ApproveIn, body_required=False,
              description="A bill the till has not posted is posted through the earn path under its own outlet "
                          "and number (resolution `posted`), so the till sending it later cannot post it again. "
                          "A bill the till has posted is linked (`linked`); if it was posted for less than the "
                          "member paid, the missing points are credited as a linked correction (`corrected`). "
                          "A rejected appeal is 409."),
    Operation("api.appeal_reject", "post", "rejectAppeal", "Reject an appeal with the reason told to the member",
              {"200": answer("Rejected", "Appeal"), **problems(401, 403, 404, 409, 413)},
              scope=SCOPE, path=AppealPath, body=RejectIn,
              description="An approved appeal is 409."),
]

SCHEMAS = {
    "Appeal": {"type": "object", "properties": {
        "id": {"type": "integer"},
        "member_id": {"type": "integer"},
        "outlet": {"type": "string"},
        "bill_no": {"type": "string"},
        "bill_date": {"type": "string", "format": "date"},
        "amount": DECIMAL,
        "note": {"type": "string", "nullable": True},
        "has_receipt": {"type": "boolean"},
        "status": {"type": "string", "enum": list(STATUSES)},
        "opened_by": {"type": "string", "enum": ["member", "staff", "api"]},
        "created_at": TIMESTAMP,
        "due_at": {**TIMESTAMP, "description": "The SLA: when an answer is due"},
        "overdue": {"type": "boolean"},
        "resolved_at": NULLABLE_TIMESTAMP,
        "resolution": {"type": "string", "nullable": True, "enum": ["posted", "linked", "corrected", None]},
        "reason": {"type": "string", "nullable": True, "description": "Why it was rejected, or the approval's note"},
        "bill_id": {"type": "integer", "nullable": True, "description": "The posted bill (GET /transactions/{id})"},
        "entry_id": {"type": "integer", "nullable": True, "description": "The bill's earn entry"},
        "correction_entry_id": {"type": "integer", "nullable": True},
        "points": {"type": "integer", "nullable": True, "description": "What the approval added"},
        "replayed": {"type": "boolean"},
    }},
    "AppealPage": {"type": "object", "properties": {
        "appeals": {"type": "array", "items": {"$ref": "#/components/schemas/Appeal"}},
        "total": {"type": "integer"}, "page": {"type": "integer"}, "per_page": {"type": "integer"}}},
}


def appeal_json(appeal, outlet_code, now=None) -> dict:
    return {
        "id": appeal.id, "member_id": appeal.member_id, "outlet": outlet_code, "bill_no": appeal.bill_no,
        "bill_date": appeal.bill_date.isoformat(), "amount": format_cents(appeal.amount_cents), "note": appeal.note,
        "has_receipt": appeal.receipt_type is not None, "status": appeal.status, "opened_by": appeal.opened_by,
        "created_at": isoformat(appeal.created_at), "due_at": isoformat(appeal.due_at),
        "overdue": services.is_overdue(appeal, now),
        "resolved_at": isoformat(appeal.resolved_at) if appeal.resolved_at else None,
        "resolution": appeal.resolution, "reason": appeal.reason, "bill_id": appeal.bill_id,
        "entry_id": appeal.entry_id, "correction_entry_id": appeal.correction_entry_id, "points": appeal.points,
    }


def _actor(request):
    key = request.verified_api_key
    return Actor.api_key(key.id, f"{key.prefix} ({key.label})" if key.label else key.prefix)


def _settings(request):
    return services.AppealSettings.from_mapping(request.registry.settings)


@view_config(route_name="api.appeals", request_method="GET", require_csrf=False, renderer="json")
def list_appeals(request):
    outlet = authenticate(request, SCOPE)
    query = read_query(request)
    rows, total = services.search_appeals(request.dbsession, query.search(), {outlet.id}, limit=query.per_page,
                                          offset=(query.page - 1) * query.per_page)
    now = utcnow()
    return {"appeals": [appeal_json(row.Appeal, row.outlet_code, now) for row in rows], "total": total,
            "page": query.page, "per_page": query.per_page}


@view_config(route_name="api.appeals", request_method="POST", require_csrf=False, renderer="json")
def file_appeal(request):
    outlet = authenticate(request, SCOPE)
    body = read_body(request)
    appeal, replayed = services.file_appeal(
        request.dbsession, request.programme, _settings(request), body.filing(outlet.code), opened_by=BY_API,
        actor=_actor(request), outlet_ids={outlet.id}, address=request.client_addr)
    request.response.status = 200 if replayed else 201
    return {**appeal_json(appeal, outlet.code), "replayed": replayed}


@view_config(route_name="api.appeal", request_method="GET", require_csrf=False, renderer="json")
def get_appeal(request):
    outlet = authenticate(request, SCOPE)
    appeal = services.get_appeal(request.dbsession, read_path(request).id, {outlet.id})
    return appeal_json(appeal, outlet.code)


@view_config(route_name="api.appeal_approve", request_method="POST", require_csrf=False, renderer="json")
def approve(request):
    outlet = authenticate(request, SCOPE)
    appeal_id = read_path(request).id
    body = read_body(request)
    appeal, replayed = services.approve_appeal(
        request.dbsession, request.plugins, request.programme, appeal_id, body.approval(), actor=_actor(request),
        outlet_ids={outlet.id}, address=request.client_addr)
    return {**appeal_json(appeal, outlet.code), "replayed": replayed}


@view_config(route_name="api.appeal_reject", request_method="POST", require_csrf=False, renderer="json")
def reject(request):
    outlet = authenticate(request, SCOPE)
    appeal_id = read_path(request).id
    body = read_body(request)
    appeal, replayed = services.reject_appeal(request.dbsession, appeal_id, body.reason, actor=_actor(request),
                                              outlet_ids={outlet.id}, address=request.client_addr)
    return {**appeal_json(appeal, outlet.code), "replayed": replayed}
