"""Coupons API views: coupon types and issuing (scope coupons.manage), a member's coupons and a
multiplier applied to a posted bill (scope cashier). Coupons that pay are the settlement's `coupon`
tender (POST /api/v1/settlements). Thin: read the input through the operation's schema, call a
service, shape JSON."""
from pyramid.view import view_config

from lps_core.coupons import redemption, services
from lps_core.coupons.services import number_text
from lps_core.coupons.schemas import CouponApplyIn, CouponIssueIn, CouponPath, CouponTypeIn
from lps_core.http.document import answer, problems
from lps_core.http.operations import Operation, read_body, read_path
from lps_core.http.request import authenticate
from lps_core.money import format_cents
from lps_core.timeutil import isoformat, utcnow


def includeme(config):
    config.add_route("api.coupon_types", "/api/v1/coupon-types")
    config.add_route("api.coupons", "/api/v1/coupons")
    config.add_route("api.coupon_apply", "/api/v1/coupons/{code}/apply")
    config.add_api_operations(OPERATIONS, SCHEMAS)
    config.scan(__name__)


OPERATIONS = [
    Operation("api.coupon_types", "get", "listCouponTypes", "The coupon types",
              {"200": answer("The types", "CouponTypeList"), **problems(401, 403)}, scope="coupons.manage"),
    Operation("api.coupon_types", "post", "saveCouponType", "Create or change a coupon type (by its code)",
              {"200": answer("Saved", "CouponType"), **problems(401, 403, 413, 422)},
              scope="coupons.manage", body=CouponTypeIn),
    Operation("api.coupons", "post", "issueCoupons", "Issue a coupon of a type to each of a list of members",
              {"201": answer("The members' coupons under this source_ref", "CouponList"),
               **problems(401, 403, 404, 413, 422)}, scope="coupons.manage", body=CouponIssueIn,
              description="Idempotent on (type, member, source_ref): a retried call issues nothing twice."),
    Operation("api.coupon_apply", "post", "applyCouponMultiplier",
              "Apply a points-multiplier coupon to a bill the outlet has posted",
              {"200": answer("The redemption", "CouponApplied"), **problems(401, 403, 404, 413, 422)},
              scope="cashier", body=CouponApplyIn, path=CouponPath,
              description="Applying the same coupon to the same bill again answers the first application."),
]

SCHEMAS = {
    "CouponType": {"type": "object", "properties": {
        "code": {"type": "string"}, "name": {"type": "string"},
        "kind": {"type": "string", "enum": ["amount", "percent", "item", "multiplier"]},
        "value": {"type": "string", "nullable": True}, "percent": {"type": "string", "nullable": True},
        "sku": {"type": "string", "nullable": True}, "multiplier": {"type": "string", "nullable": True},
        "valid_from": {"type": "string", "format": "date", "nullable": True},
        "valid_to": {"type": "string", "format": "date", "nullable": True},
        "valid_days": {"type": "integer", "nullable": True}, "min_spend": {"type": "string"},
        "outlets": {"type": "array", "items": {"type": "string"}}, "uses": {"type": "integer"},
        "active": {"type": "boolean"},
        "on_refund": {"type": "string", "enum": ["return", "return_unexpired", "forfeit"]}}},
    "CouponTypeList": {"type": "object", "properties": {
        "coupon_types": {"type": "array", "items": {"$ref": "#/components/schemas/CouponType"}}}},
    "Coupon": {"type": "object", "properties": {
        "code": {"type": "string", "example": "C2ABCD3EFGH4"}, "coupon_type": {"type": "string"},
        "name": {"type": "string"}, "kind": {"type": "string"}, "member_id": {"type": "integer"},
        "valid_from": {"type": "string", "format": "date-time"}, "valid_to": {"type": "string", "format": "date-time"},
        "uses_left": {"type": "integer"},
        "status": {"type": "string", "enum": ["issued", "not_yet_valid", "expired", "used", "void"]}}},
    "CouponList": {"type": "object", "properties": {
        "coupons": {"type": "array", "items": {"$ref": "#/components/schemas/Coupon"}}}},
    "CouponApplied": {"type": "object", "properties": {
        "code": {"type": "string"}, "bill_no": {"type": "string"}, "points": {"type": "integer"}}},
}


def type_json(t) -> dict:
    return {"code": t.code, "name": t.name, "kind": t.kind,
            "value": format_cents(t.value_cents) if t.value_cents is not None else None,
            "percent": number_text(t.percent) if t.percent is not None else None, "sku": t.sku,
            "multiplier": number_text(t.multiplier) if t.multiplier is not None else None,
            "valid_from": t.valid_from.isoformat() if t.valid_from else None,
            "valid_to": t.valid_to.isoformat() if t.valid_to else None, "valid_days": t.valid_days,
            "min_spend": format_cents(t.min_spend_cents), "outlets": list(t.outlets), "uses": t.uses,
            "active": t.active, "on_refund": t.on_refund}


def coupon_json(coupon, coupon_type, now) -> dict:
    return {"code": coupon.code, "coupon_type": coupon_type.code, "name": coupon_type.name, "kind": coupon_type.kind,
            "member_id": coupon.member_id, "valid_from": isoformat(coupon.valid_from),
            "valid_to": isoformat(coupon.valid_to), "uses_left": coupon.uses_left,
            "status": services.coupon_status(coupon, now)}


@view_config(route_name="api.coupon_types", request_method="GET", require_csrf=False, renderer="json")
def list_types(request):
    authenticate(request, "coupons.manage")
    return {"coupon_types": [type_json(t) for t in services.list_types(request.dbsession)]}


@view_config(route_name="api.coupon_types", request_method="POST", require_csrf=False, renderer="json")
def save_type(request):
    authenticate(request, "coupons.manage")
    body = read_body(request)
    coupon_type, _ = services.save_type(request.dbsession, body.spec())
    request.programme.promotions.forget()  # promotions' prizes carry the type's terms
    return type_json(coupon_type)


@view_config(route_name="api.coupons", request_method="POST", require_csrf=False, renderer="json")
def issue(request):
    authenticate(request, "coupons.manage")
    body = read_body(request)
    db = request.dbsession
    now = utcnow()
    coupons = services.issue_coupons(db, body.coupon_type, body.member_ids, source="api", source_ref=body.source_ref,
                                     now=now, tz=request.programme.timezone)
    coupon_type = services.find_type(db, body.coupon_type)
    request.response.status = 201
    return {"coupons": [coupon_json(c, coupon_type, now) for c in coupons]}


@view_config(route_name="api.coupon_apply", request_method="POST", require_csrf=False, renderer="json")
def apply(request):
    outlet = authenticate(request, "cashier")
    code = read_path(request).code
    body = read_body(request)
    done = redemption.apply_multiplier(request.dbsession, outlet, code, body.bill_no)
    return {"code": services.find_coupon(request.dbsession, code)[0].code, "bill_no": body.bill_no,
            "points": done.points}
