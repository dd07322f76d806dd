"""Webhooks API views (scope webhooks.manage): the programme's endpoints (list, create, read,
change, a new secret), an endpoint's delivery log, and re-sending a delivery. Endpoints receive the
whole programme's events, so the scope is for a back-office or website key of the group, like
plugins.programme. Thin: read the input through the operation's schema, call
lps_core.webhooks.services, audit, shape JSON. A secret is answered once, where it is made
(Cache-Control: no-store), and never again."""
from pyramid.view import view_config
from sqlalchemy import func, select

from lps_core.audit.api_writes import api_actor
from lps_core.audit.services import record
from lps_core.errors import Unprocessable
from lps_core.http.document import answer, problems
from lps_core.http.operations import Operation, read_body, read_path, read_query
from lps_core.http.request import authenticate
from lps_core.timeutil import isoformat
from lps_core.webhooks import services
from lps_core.webhooks.models import STATUSES, WebhookDelivery
from lps_core.webhooks.schemas import DeliveryPath, DeliveryQuery, EndpointIn, EndpointPath, SecretIn
from lps_core.webhooks.settings import webhook_settings

SCOPE = "webhooks.manage"


def includeme(config):
    config.add_route("api.webhook_endpoints", "/api/v1/webhooks/endpoints")
    config.add_route("api.webhook_endpoint", "/api/v1/webhooks/endpoints/{id}")
    config.add_route("api.webhook_endpoint_secret", "/api/v1/webhooks/endpoints/{id}/secret")
    config.add_route("api.webhook_deliveries", "/api/v1/webhooks/endpoints/{id}/deliveries")
    config.add_route("api.webhook_resend", "/api/v1/webhooks/deliveries/{id}/resend")
    config.add_api_operations(OPERATIONS, SCHEMAS)
    config.scan(__name__)


TIMESTAMP = {"type": "string", "format": "date-time"}
NULLABLE_TIMESTAMP = {**TIMESTAMP, "nullable": True}
SEE = " Receivers: docs/webhooks.md (payloads, headers, the signature)."

OPERATIONS = [
    Operation("api.webhook_endpoints", "get", "listWebhookEndpoints", "The programme's webhook endpoints",
              {"200": answer("Every endpoint, by name", "WebhookEndpointList"), **problems(401, 403)}, scope=SCOPE),
    Operation("api.webhook_endpoints", "post", "createWebhookEndpoint", "Add a webhook endpoint",
              {"201": answer("Created; `secret` is answered this once", "WebhookEndpointWithSecret"),
               **problems(401, 403, 409, 413, 422)}, scope=SCOPE, body=EndpointIn,
              description="A name already used is 409 naming `name`; a URL that is not https (plain http only to "
                          "the loopback) is 422 naming `url`; a secret under 24 characters 422 naming `secret`."
                          + SEE),
    Operation("api.webhook_endpoint", "get", "getWebhookEndpoint", "One webhook endpoint, with its deliveries by status",
              {"200": answer("The endpoint (never its secret)", "WebhookEndpoint"), **problems(401, 403, 404)},
              scope=SCOPE, path=EndpointPath),
    Operation("api.webhook_endpoint", "put", "changeWebhookEndpoint", "Change a webhook endpoint's name, URL, events "
              "and switch", {"200": answer("The endpoint after the change", "WebhookEndpoint"),
                             **problems(401, 403, 404, 409, 413, 422)},
              scope=SCOPE, path=EndpointPath, body=EndpointIn,
              description="Every field is given; `secret` is refused here (422): replace it with POST .../secret. "
                          "Switching an endpoint off cancels what waits for it."),
    Operation("api.webhook_endpoint_secret", "post", "replaceWebhookSecret", "Give a webhook endpoint a new secret",
              {"200": answer("The new secret, answered this once", "WebhookSecret"),
               **problems(401, 403, 404, 413, 422)},
              scope=SCOPE, path=EndpointPath, body=SecretIn, body_required=False,
              description="Every delivery sent from now on, retries of older events included, is signed with it."),
    Operation("api.webhook_deliveries", "get", "listWebhookDeliveries", "An endpoint's delivery log, newest first",
              {"200": answer("A page of deliveries", "WebhookDeliveryPage"), **problems(401, 403, 404)},
              scope=SCOPE, path=EndpointPath, query=DeliveryQuery),
    Operation("api.webhook_resend", "post", "resendWebhookDelivery", "Send a delivery's event again",
              {"201": answer("The new delivery, queued", "WebhookDelivery"), **problems(401, 403, 404, 409)},
              scope=SCOPE, path=DeliveryPath,
              description="A new delivery of the same event (same event id and body) to the same endpoint, with a "
                          "fresh set of tries; the original stays in the log. One still waiting or being sent, or "
                          "whose endpoint is switched off, is 409."),
]

ENDPOINT = {
    "id": {"type": "integer"},
    "name": {"type": "string"},
    "url": {"type": "string"},
    "events": {"type": "array", "items": {"type": "string", "enum": list(services.EVENT_TYPES)}},
    "active": {"type": "boolean"},
    "created_at": TIMESTAMP,
    "updated_at": NULLABLE_TIMESTAMP,
    "secret_set_at": NULLABLE_TIMESTAMP,
    "deliveries": {"type": "object", "additionalProperties": {"type": "integer"},
                   "description": "How many deliveries are in each status"},
}
SCHEMAS = {
    "WebhookEndpoint": {"type": "object", "properties": ENDPOINT},
    "WebhookEndpointWithSecret": {"type": "object", "properties": {
        **ENDPOINT, "secret": {"type": "string", "description": "Keep it: it is never answered again"}}},
    "WebhookEndpointList": {"type": "object", "properties": {
        "endpoints": {"type": "array", "items": {"$ref": "#/components/schemas/WebhookEndpoint"}}}},
    "WebhookSecret": {"type": "object", "properties": {"id": {"type": "integer"}, "secret": {"type": "string"}}},
    "WebhookDelivery": {"type": "object", "properties": {
        "id": {"type": "integer"},
        "endpoint_id": {"type": "integer"},
        "event_id": {"type": "string"},
        "event_type": {"type": "string", "enum": list(services.EVENT_TYPES)},
        "status": {"type": "string", "enum": list(STATUSES)},
        "tries": {"type": "integer"},
        "created_at": TIMESTAMP,
        "last_attempt_at": NULLABLE_TIMESTAMP,
        "next_attempt_at": NULLABLE_TIMESTAMP,
        "last_status_code": {"type": "integer", "nullable": True, "description": "The receiver's last HTTP status"},
        "last_response": {"type": "string", "nullable": True, "description": "The first 500 characters of its answer"},
        "last_error": {"type": "string", "nullable": True},
        "delivered_at": NULLABLE_TIMESTAMP,
        "resent_from_id": {"type": "integer", "nullable": True},
        "body": {"type": "string", "description": "The event's JSON text, exactly as signed and sent"},
    }},
    "WebhookDeliveryPage": {"type": "object", "properties": {
        "deliveries": {"type": "array", "items": {"$ref": "#/components/schemas/WebhookDelivery"}},
        "total": {"type": "integer"}, "page": {"type": "integer"}, "per_page": {"type": "integer"}}},
}


def endpoint_json(endpoint, counts=None) -> dict:
    return {"id": endpoint.id, "name": endpoint.name, "url": endpoint.url, "events": list(endpoint.events),
            "active": endpoint.active, "created_at": isoformat(endpoint.created_at),
            "updated_at": _time(endpoint.updated_at), "secret_set_at": _time(endpoint.secret_set_at),
            "deliveries": counts or {}}


def delivery_json(delivery) -> dict:
    waiting = delivery.status in ("queued", "sending")
    return {"id": delivery.id, "endpoint_id": delivery.endpoint_id, "event_id": delivery.event_id,
            "event_type": delivery.event_type, "status": delivery.status, "tries": delivery.tries,
            "created_at": isoformat(delivery.created_at), "last_attempt_at": _time(delivery.last_attempt_at),
            "next_attempt_at": _time(delivery.next_attempt_at) if waiting else None,
            "last_status_code": delivery.last_status_code, "last_response": delivery.last_response,
            "last_error": delivery.last_error, "delivered_at": _time(delivery.delivered_at),
            "resent_from_id": delivery.resent_from_id, "body": delivery.body}


def _time(value):
    return isoformat(value) if value is not None else None


def _counts(db, endpoint_id) -> dict:
    return dict(db.execute(select(WebhookDelivery.status, func.count()).where(WebhookDelivery.endpoint_id == endpoint_id)
                           .group_by(WebhookDelivery.status)).all())


def _audit(request, action, target, *, before=None, after=None):
    actor, outlet_id = api_actor(request)
    record(request.dbsession, actor=actor, action=action, target=target, before=before, after=after,
           address=request.client_addr, outlet_id=outlet_id)


def _no_store(request):
    request.response.headers["Cache-Control"] = "no-store"


@view_config(route_name="api.webhook_endpoints", request_method="GET", require_csrf=False, renderer="json")
def list_endpoints(request):
    authenticate(request, SCOPE)
    return {"endpoints": [endpoint_json(endpoint, counts)
                          for endpoint, counts in services.list_endpoints(request.dbsession)]}


@view_config(route_name="api.webhook_endpoints", request_method="POST", require_csrf=False, renderer="json")
def create_endpoint(request):
    authenticate(request, SCOPE)
    body = read_body(request)
    endpoint, secret = services.create_endpoint(request.dbsession, body.values(), secret=body.secret,
                                                allow_http=webhook_settings(request.plugins).allow_http)
    _audit(request, "webhook.create", ("webhook_endpoint", endpoint.id),
           after={**services.endpoint_fields(endpoint), "signing_key": "given" if body.secret else "made"})
    request.response.status = 201
    _no_store(request)
    return {**endpoint_json(endpoint), "secret": secret}


@view_config(route_name="api.webhook_endpoint", request_method="GET", require_csrf=False, renderer="json")
def get_endpoint(request):
    authenticate(request, SCOPE)
    endpoint = services.get_endpoint(request.dbsession, read_path(request).id)
    return endpoint_json(endpoint, _counts(request.dbsession, endpoint.id))


@view_config(route_name="api.webhook_endpoint", request_method="PUT", require_csrf=False, renderer="json")
def change_endpoint(request):
    authenticate(request, SCOPE)
    endpoint_id = read_path(request).id
    body = read_body(request)
    if body.secret is not None:
        raise Unprocessable("the secret is replaced with POST .../secret", {"secret": "replace it with POST .../secret"})
    change = services.update_endpoint(request.dbsession, endpoint_id, body.values(),
                                      allow_http=webhook_settings(request.plugins).allow_http)
    _audit(request, "webhook.update", ("webhook_endpoint", endpoint_id), **change)
    endpoint = services.get_endpoint(request.dbsession, endpoint_id)
    return endpoint_json(endpoint, _counts(request.dbsession, endpoint_id))


@view_config(route_name="api.webhook_endpoint_secret", request_method="POST", require_csrf=False, renderer="json")
def replace_secret(request):
    authenticate(request, SCOPE)
    endpoint_id = read_path(request).id
    body = read_body(request)
    given = body.secret if body is not None else None
    secret = services.replace_secret(request.dbsession, endpoint_id, given)
    _audit(request, "webhook.secret", ("webhook_endpoint", endpoint_id),
           after={"signing_key": "given" if given else "made"})
    _no_store(request)
    return {"id": endpoint_id, "secret": secret}


@view_config(route_name="api.webhook_deliveries", request_method="GET", require_csrf=False, renderer="json")
def list_deliveries(request):
    authenticate(request, SCOPE)
    endpoint = services.get_endpoint(request.dbsession, read_path(request).id)
    query = read_query(request)
    db = request.dbsession
    found = services.deliveries_query(endpoint.id, status=query.status, event_type=query.event)
    total = db.scalar(select(func.count()).select_from(found.subquery()))
    rows = db.scalars(found.order_by(WebhookDelivery.id.desc()).limit(query.per_page)
                      .offset((query.page - 1) * query.per_page)).all()
    return {"deliveries": [delivery_json(row) for row in rows], "total": total, "page": query.page,
            "per_page": query.per_page}


@view_config(route_name="api.webhook_resend", request_method="POST", require_csrf=False, renderer="json")
def resend(request):
    authenticate(request, SCOPE)
    delivery_id = read_path(request).id
    copy, what = services.resend(request.dbsession, delivery_id, by=f"API key {api_actor(request)[0].name}"[:120])
    _audit(request, "webhook.resend", ("webhook_delivery", delivery_id), after=what)
    request.response.status = 201
    return delivery_json(copy)
