"""The members resource: enrolment (pending approval) and approval with a card's issue."""
from pyramid.view import view_config
from sqlalchemy import select

from lps_core.errors import Unprocessable, ValidationFailed
from lps_core.http.document import answer, problems
from lps_core.http.operations import Operation, read_body, read_path
from lps_core.http.request import authenticate
from lps_core.members import services as members
from lps_core.members.models import Member
from lps_core.members.schemas import ApprovalIn, EnrolmentIn, MemberPath
from lps_core.operators.access import api_key_scope, require_member_write
from lps_core.pii import phone_region_of


def includeme(config):
    config.add_route("api.members", "/api/v1/members")
    config.add_route("api.member_approve", "/api/v1/members/{id}/approve")
    config.add_api_operations(OPERATIONS, SCHEMAS)
    config.scan(__name__)


OPERATIONS = [
    Operation("api.members", "post", "enrolMember", "Enrol a member (waits for approval)",
              {"201": answer("Enrolled, pending approval", "MemberStatus"), **problems(401, 403, 409, 413, 422)},
              scope="members", body=EnrolmentIn),
    Operation("api.member_approve", "post", "approveMember", "Approve a pending member and issue a card",
              {"200": answer("Approved", "Approval"), **problems(401, 403, 404, 409, 413, 422)},
              scope="members.approve", body=ApprovalIn, body_required=False, path=MemberPath),
]

SCHEMAS = {
    "MemberStatus": {"type": "object", "properties": {
        "id": {"type": "integer"}, "status": {"type": "string", "enum": ["pending", "active"]}}},
    "Approval": {"type": "object", "properties": {
        "id": {"type": "integer"}, "status": {"type": "string"}, "card_no": {"type": "string"}}},
}


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
