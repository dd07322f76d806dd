"""Marketing API views (scope marketing): segments (save, count now, preview) and campaigns
(create, schedule or cancel, read with their results). Thin: read the input through the
operation's schema, call lps_core.marketing, shape JSON; administrative changes are audited."""
from pyramid.view import view_config
from sqlalchemy import select

from lps_core.audit.services import Actor, record
from lps_core.components import ISettings
from lps_core.errors import Conflict, NotFound
from lps_core.http.document import answer, problems
from lps_core.http.operations import Operation, read_body, read_path, read_query
from lps_core.http.request import authenticate
from lps_core.marketing import campaigns, segments
from lps_core.marketing.models import Segment
from lps_core.marketing.results import campaign_results
from lps_core.marketing.schemas import CampaignAction, CampaignIn, CampaignPath, PreviewQuery, SegmentIn, SegmentPath
from lps_core.timeutil import isoformat, utcnow

SCOPE = "marketing"


def includeme(config):
    config.add_route("api.segments", "/api/v1/segments")
    config.add_route("api.segment", "/api/v1/segments/{id}")
    config.add_route("api.campaigns", "/api/v1/campaigns")
    config.add_route("api.campaign", "/api/v1/campaigns/{id}")
    config.add_api_operations(OPERATIONS, SCHEMAS)
    config.scan(__name__)


OPERATIONS = [
    Operation("api.segments", "post", "saveSegment", "Save a segment (a filter over members) and count it now",
              {"201": answer("Saved", "Segment"), **problems(401, 403, 409, 413, 422)}, scope=SCOPE, body=SegmentIn,
              description="An unknown tier, card type or outlet code is 422 naming it; a name taken is 409."),
    Operation("api.segment", "get", "getSegment", "A segment, its count now and the first members",
              {"200": answer("The segment", "Segment"), **problems(401, 403, 404, 422)}, scope=SCOPE,
              path=SegmentPath, query=PreviewQuery),
    Operation("api.campaigns", "post", "createCampaign", "Create a campaign: a message to a segment, sent when due",
              {"201": answer("Created", "Campaign"), **problems(401, 403, 413, 422)}, scope=SCOPE, body=CampaignIn,
              description="Without send_at it is a draft; `lps jobs campaigns` sends it once due."),
    Operation("api.campaign", "get", "getCampaign", "A campaign and its results",
              {"200": answer("The campaign", "Campaign"), **problems(401, 403, 404)}, scope=SCOPE, path=CampaignPath),
    Operation("api.campaign", "post", "actOnCampaign", "Schedule or cancel a campaign not yet sent",
              {"200": answer("Done", "Campaign"), **problems(401, 403, 404, 409, 413, 422)}, scope=SCOPE,
              path=CampaignPath, body=CampaignAction),
]

SCHEMAS = {
    "Segment": {"type": "object", "properties": {
        "id": {"type": "integer"}, "name": {"type": "string"}, "description": {"type": "string", "nullable": True},
        "definition": {"type": "object"}, "count": {"type": "integer", "description": "Members now"},
        "preview": {"type": "array", "items": {"type": "object"}}}},
    "Campaign": {"type": "object", "properties": {
        "id": {"type": "integer"}, "name": {"type": "string"}, "segment_id": {"type": "integer"},
        "status": {"type": "string"}, "send_at": {"type": "string", "format": "date-time", "nullable": True},
        "control_percent": {"type": "integer"}, "bonus_points": {"type": "integer"},
        "coupon_type_code": {"type": "string", "nullable": True}, "results": {"type": "object"}}},
}


def _actor(request):
    key = request.verified_api_key
    return Actor.api_key(key.id, f"{key.prefix} ({key.label})" if key.label else key.prefix)


def _tz(request):
    return request.registry.getUtility(ISettings).timezone


def segment_json(db, segment, tz, limit=20) -> dict:
    definition = segments.SegmentDefinition.model_validate(segment.definition)
    now = utcnow()
    rows = segments.preview(db, definition, now, tz, limit=limit)
    return {"id": segment.id, "name": segment.name, "description": segment.description,
            "definition": segment.definition, "count": segments.count(db, definition, now, tz),
            "preview": [{**row, "last_visit": isoformat(row["last_visit"]) if row["last_visit"] else None}
                        for row in rows]}


def campaign_json(db, campaign) -> dict:
    results = campaign_results(db, campaign.id)
    if results.get("spend"):
        results["spend"] = {**results["spend"], "until": isoformat(results["spend"]["until"])}
    return {"id": campaign.id, "name": campaign.name, "segment_id": campaign.segment_id, "status": campaign.status,
            "send_at": isoformat(campaign.send_at) if campaign.send_at else None,
            "control_percent": campaign.control_percent, "bonus_points": campaign.bonus_points,
            "coupon_type_code": campaign.coupon_type_code, "results": results}


@view_config(route_name="api.segments", request_method="POST", require_csrf=False, renderer="json")
def save_segment(request):
    authenticate(request, SCOPE)
    body = read_body(request)
    db = request.dbsession
    segments.check_definition(db, body.definition)
    if db.scalar(select(Segment.id).where(Segment.name == body.name)) is not None:
        raise Conflict("a segment of that name exists", {"name": "taken"})
    definition = body.definition.stored()
    segment = Segment(name=body.name, description=body.description, definition=definition,
                      created_by=_actor(request).name, created_at=utcnow(), updated_at=utcnow())
    db.add(segment)
    db.flush()
    record(db, actor=_actor(request), action="segment.save", target=("segment", segment.id),
           after={"name": segment.name, "definition": definition})
    request.response.status = 201
    return segment_json(db, segment, _tz(request))


@view_config(route_name="api.segment", request_method="GET", require_csrf=False, renderer="json")
def get_segment(request):
    authenticate(request, SCOPE)
    query = read_query(request)
    segment = request.dbsession.get(Segment, read_path(request).id)
    if segment is None:
        raise NotFound("no such segment", {"id": "no such segment"})
    return segment_json(request.dbsession, segment, _tz(request), query.limit)


@view_config(route_name="api.campaigns", request_method="POST", require_csrf=False, renderer="json")
def create_campaign(request):
    authenticate(request, SCOPE)
    body = read_body(request)
    db = request.dbsession
    campaign = campaigns.create_campaign(db, body, by=_actor(request).name)
    record(db, actor=_actor(request), action="campaign.save", target=("campaign", campaign.id),
           after=body.model_dump(mode="json"))
    request.response.status = 201
    return campaign_json(db, campaign)


@view_config(route_name="api.campaign", request_method="GET", require_csrf=False, renderer="json")
def get_campaign(request):
    authenticate(request, SCOPE)
    return campaign_json(request.dbsession, campaigns.get_campaign(request.dbsession, read_path(request).id))


@view_config(route_name="api.campaign", request_method="POST", require_csrf=False, renderer="json")
def act_on_campaign(request):
    authenticate(request, SCOPE)
    body = read_body(request)
    db = request.dbsession
    campaign = campaigns.get_campaign(db, read_path(request).id)
    before = {"status": campaign.status}
    if body.action == "schedule":
        campaigns.schedule(db, campaign, body.send_at)
    else:
        campaigns.cancel(db, campaign)
    record(db, actor=_actor(request), action=f"campaign.{body.action}", target=("campaign", campaign.id),
           before=before, after={"status": campaign.status})
    return campaign_json(db, campaign)
