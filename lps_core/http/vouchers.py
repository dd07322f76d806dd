"""Vouchers API views (scope vouchers.manage): issue, look one up, void. Thin: read the input through
the operation's schema, call a service, shape JSON."""
from pyramid.view import view_config

from lps_core.http.document import answer, problems
from lps_core.http.operations import Operation, read_body, read_path
from lps_core.http.request import authenticate
from lps_core.money import format_cents
from lps_core.outlets.models import Outlet
from lps_core.timeutil import isoformat, utcnow
from lps_core.vouchers import services
from lps_core.vouchers.schemas import VoucherIssueIn, VoucherPath, VoucherVoidIn


def includeme(config):
    config.add_route("api.vouchers", "/api/v1/vouchers")
    config.add_route("api.voucher", "/api/v1/vouchers/{code}")
    config.add_route("api.voucher_void", "/api/v1/vouchers/{code}/void")
    config.add_api_operations(OPERATIONS, SCHEMAS)
    config.scan(__name__)


DECIMAL = {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$", "example": "50.00"}
TIMESTAMP = {"type": "string", "format": "date-time"}
NULLABLE_TIMESTAMP = {**TIMESTAMP, "nullable": True}

OPERATIONS = [
    Operation("api.vouchers", "post", "issueVouchers", "Issue vouchers of one face value and validity",
              {"201": answer("Issued", "VoucherBatch"), **problems(401, 403, 413, 422)},
              scope="vouchers.manage", body=VoucherIssueIn,
              description="Each call issues new vouchers with new random codes (a retried call issues more). "
                          "A valid_to already past, or not after valid_from: 422."),
    Operation("api.voucher", "get", "getVoucher", "One voucher of the key's outlet or of the whole programme",
              {"200": answer("The voucher", "Voucher"), **problems(401, 403, 404)},
              scope="vouchers.manage", path=VoucherPath,
              description="Another outlet's voucher answers 404, like an unknown code."),
    Operation("api.voucher_void", "post", "voidVoucher", "Void a voucher, so that no till takes it",
              {"200": answer("Voided (or already void)", "Voucher"), **problems(401, 403, 404, 409, 413)},
              scope="vouchers.manage", body=VoucherVoidIn, body_required=False, path=VoucherPath,
              description="A redeemed voucher cannot be voided (409): refund its settlement instead."),
]

SCHEMAS = {
    "Voucher": {"type": "object", "properties": {
        "code": {"type": "string", "example": "V2ABCD3EFGH4J", "description": "Printed on the voucher; the "
                                                                           "voucher tender's reference"},
        "value": DECIMAL,
        "valid_from": TIMESTAMP,
        "valid_to": {**TIMESTAMP, "description": "Excluded: the voucher is not taken from this moment"},
        "issued_at": TIMESTAMP,
        "outlet": {"type": "string", "nullable": True, "description": "null: taken at every outlet"},
        "status": {"type": "string", "enum": ["issued", "expired", "redeemed", "void"]},
        "redeemed_at": NULLABLE_TIMESTAMP,
        "settlement_id": {"type": "integer", "nullable": True},
        "voided_at": NULLABLE_TIMESTAMP,
        "void_reason": {"type": "string", "nullable": True},
        "replayed": {"type": "boolean", "description": "Voiding: the voucher was already void"},
    }},
    "VoucherBatch": {"type": "object", "properties": {
        "vouchers": {"type": "array", "items": {"$ref": "#/components/schemas/Voucher"}}}},
}


def voucher_json(db, voucher) -> dict:
    def moment(value):
        return isoformat(value) if value is not None else None

    return {
        "code": voucher.code,
        "value": format_cents(voucher.face_value_cents),
        "valid_from": isoformat(voucher.valid_from),
        "valid_to": isoformat(voucher.valid_to),
        "issued_at": isoformat(voucher.issued_at),
        "outlet": db.get(Outlet, voucher.outlet_id).code if voucher.outlet_id is not None else None,
        "status": services.voucher_status(voucher, utcnow()),
        "redeemed_at": moment(voucher.redeemed_at),
        "settlement_id": voucher.settlement_id,
        "voided_at": moment(voucher.voided_at),
        "void_reason": voucher.void_reason,
    }


@view_config(route_name="api.vouchers", request_method="POST", require_csrf=False, renderer="json")
def issue(request):
    outlet = authenticate(request, "vouchers.manage")
    body = read_body(request)
    db = request.dbsession
    vouchers = services.issue_vouchers(db, body.issue(outlet.code))
    request.response.status = 201
    return {"vouchers": [voucher_json(db, voucher) for voucher in vouchers]}


@view_config(route_name="api.voucher", request_method="GET", require_csrf=False, renderer="json")
def get_voucher(request):
    outlet = authenticate(request, "vouchers.manage")
    code = read_path(request).code
    db = request.dbsession
    return voucher_json(db, services.find_voucher(db, outlet.id, code))


@view_config(route_name="api.voucher_void", request_method="POST", require_csrf=False, renderer="json")
def void(request):
    outlet = authenticate(request, "vouchers.manage")
    code = read_path(request).code
    body = read_body(request)
    db = request.dbsession
    voucher, replayed = services.void_voucher(db, outlet.id, code, body.reason)
    return {**voucher_json(db, voucher), "replayed": replayed}
