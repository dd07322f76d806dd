"""Vouchers API views (scope vouchers.manage): issue, look one up, void. Thin: read the input through
the operation's schema, call a service, shape JSON."""
from pyramid.view import view_config

from lps_core.api.operations import read_body, read_path
from lps_core.api.request import authenticate
from lps_core.money import format_cents
from lps_core.outlets.models import Outlet
from lps_core.timeutil import isoformat, utcnow
from lps_core.vouchers import services


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
