"""Views of the webhook screens (see the package's docstring). Thin: read the form through
lps_core.webhooks.schemas, call lps_core.webhooks.services, audit, answer. A secret is answered
once, in the page of the POST that made it (never in a URL, a flash or the log), with no-store."""
from pyramid.httpexceptions import HTTPNotFound
from pyramid.view import view_config

from lps_core.errors import LpsError
from lps_core.operators.permissions import Permission
from lps_core.screens.config.forms import done, invalid, require_all_outlets
from lps_core.screens.shared import audit, dgettext, form_errors
from lps_core.screens.shell.lists import paginate
from lps_core.validation import validate
from lps_core.webhooks import services
from lps_core.webhooks.models import STATUSES, WebhookDelivery
from lps_core.webhooks.schemas import DeliverySearch, EndpointForm, SecretForm, form_data
from lps_core.webhooks.settings import webhook_settings

TEMPLATE = "lps_core.screens.webhooks:templates/{}.pt"
EVENT_LABELS = {
    services.MEMBER_APPROVED: dgettext("lps_webhooks", "Member approved"),
    services.POINTS_POSTED: dgettext("lps_webhooks", "Points posted (earned or reversed)"),
    services.TIER_CHANGED: dgettext("lps_webhooks", "Tier changed"),
    services.REDEMPTION_RESERVED: dgettext("lps_webhooks", "Redemption reserved"),
    services.REDEMPTION_FULFILLED: dgettext("lps_webhooks", "Redemption fulfilled"),
    services.REDEMPTION_CANCELLED: dgettext("lps_webhooks", "Redemption cancelled"),
}
STATUS_LABELS = {
    "queued": dgettext("lps_webhooks", "waiting"),
    "sending": dgettext("lps_webhooks", "being sent"),
    "delivered": dgettext("lps_webhooks", "delivered"),
    "dead": dgettext("lps_webhooks", "dead"),
    "cancelled": dgettext("lps_webhooks", "cancelled"),
}
BLANK = {"name": "", "url": "", "events": [], "active": True}


def _common(**values) -> dict:
    return {"event_types": services.EVENT_TYPES, "event_labels": EVENT_LABELS, "status_labels": STATUS_LABELS,
            **values}


def _allow_http(request) -> bool:
    return webhook_settings(request.plugins).allow_http


def _endpoint_or_404(request):
    try:
        return services.get_endpoint(request.dbsession, int(request.matchdict["id"]))
    except LpsError:
        raise HTTPNotFound() from None


def _read_endpoint_form(request, errors):
    try:
        return validate(EndpointForm, form_data(request.POST), message="the form has invalid fields")
    except LpsError as exc:
        errors.update(form_errors(exc.fields or {}))
        return None


def _secret_page(request, endpoint, secret, made):
    request.response.headers["Cache-Control"] = "no-store"
    return _common(endpoint=endpoint, secret=secret, made=made)


@view_config(route_name="webhooks", renderer=TEMPLATE.format("endpoints"), permission=Permission.CONFIG_MANAGE)
def endpoints(request):
    """Every endpoint with its deliveries by status."""
    return _common(endpoints=services.list_endpoints(request.dbsession))


@view_config(route_name="webhooks.new", renderer=TEMPLATE.format("endpoint_form"), permission=Permission.CONFIG_MANAGE)
def new_endpoint(request):
    """The form of a new endpoint; saved, the page shows its secret, once."""
    form, errors = dict(BLANK), {}
    if request.method == "POST":
        require_all_outlets(request)
        form = {**BLANK, **form_data(request.POST)}
        values = _read_endpoint_form(request, errors)
        if values is not None:
            try:
                endpoint, secret = services.create_endpoint(request.dbsession, values.values(), secret=values.secret,
                                                            allow_http=_allow_http(request))
            except LpsError as exc:
                errors.update(exc.fields or {"name": str(exc)})
            else:
                audit(request, "webhook.create", ("webhook_endpoint", endpoint.id),
                      after={**services.endpoint_fields(endpoint), "signing_key": "given" if values.secret else "made"})
                request.override_renderer = TEMPLATE.format("endpoint_secret")
                return _secret_page(request, endpoint, secret, made=not values.secret)
        invalid(request, errors)
    return _common(endpoint=None, form=form, errors=errors)


@view_config(route_name="webhooks.endpoint", renderer=TEMPLATE.format("endpoint"), permission=Permission.CONFIG_MANAGE)
def endpoint_page(request):
    """One endpoint: its settings (a POST saves them) and its delivery log, newest first."""
    endpoint = _endpoint_or_404(request)
    form, errors = {**services.endpoint_fields(endpoint)}, {}
    if request.method == "POST":
        require_all_outlets(request)
        form = {**BLANK, **form_data(request.POST)}
        values = _read_endpoint_form(request, errors)
        if values is not None:
            try:
                change = services.update_endpoint(request.dbsession, endpoint.id, values.values(),
                                                  allow_http=_allow_http(request))
            except LpsError as exc:
                errors.update(exc.fields or {"name": str(exc)})
            else:
                audit(request, "webhook.update", ("webhook_endpoint", endpoint.id), **change)
                return done(request, dgettext("lps_webhooks", "Endpoint saved."), "webhooks.endpoint", id=endpoint.id)
        invalid(request, errors)
    try:
        search = validate(DeliverySearch, dict(request.GET))
    except LpsError:
        search = DeliverySearch()
    query = services.deliveries_query(endpoint.id, status=search.status, event_type=search.event)
    page = paginate(request.dbsession, request, query, {"id": WebhookDelivery.id, "tries": WebhookDelivery.tries,
                                                        "attempt": WebhookDelivery.last_attempt_at}, "id",
                    descending=True, params={"status": search.status, "event": search.event})
    return _common(endpoint=endpoint, form=form, errors=errors, page=page, search=search, statuses=STATUSES)


@view_config(route_name="webhooks.secret", request_method="POST", renderer=TEMPLATE.format("endpoint_secret"),
             permission=Permission.CONFIG_MANAGE)
def replace_secret(request):
    """A new secret (given, or made by LPS), shown once; the old one signs nothing more."""
    require_all_outlets(request)
    endpoint = _endpoint_or_404(request)
    try:
        given = validate(SecretForm, {k: v for k, v in request.POST.items() if k == "secret" and v.strip()}).secret
        secret = services.replace_secret(request.dbsession, endpoint.id, given)
    except LpsError as exc:
        request.tm.doom()
        return done(request, str((exc.fields or {}).get("secret") or exc), "webhooks.endpoint", id=endpoint.id)
    audit(request, "webhook.secret", ("webhook_endpoint", endpoint.id),
          after={"signing_key": "given" if given else "made"})
    return _secret_page(request, endpoint, secret, made=not given)


@view_config(route_name="webhooks.delivery", renderer=TEMPLATE.format("delivery"), permission=Permission.CONFIG_MANAGE)
def delivery_page(request):
    """One delivery: the event as sent, its tries and the receiver's last answer, and its re-sends."""
    try:
        delivery = services.get_delivery(request.dbsession, int(request.matchdict["id"]))
    except LpsError:
        raise HTTPNotFound() from None
    endpoint = services.get_endpoint(request.dbsession, delivery.endpoint_id)
    return _common(delivery=delivery, endpoint=endpoint, resends=services.resends_of(request.dbsession, delivery.id))


@view_config(route_name="webhooks.resend", request_method="POST", permission=Permission.CONFIG_MANAGE)
def resend(request):
    """Queue the delivery's event again to its endpoint (audited)."""
    require_all_outlets(request)
    delivery_id = int(request.matchdict["id"])
    try:
        copy, what = services.resend(request.dbsession, delivery_id, by=request.identity.username)
    except LpsError as exc:
        request.tm.doom()
        return done(request, str(exc), "webhooks.delivery", id=delivery_id)
    audit(request, "webhook.resend", ("webhook_delivery", delivery_id), after=what)
    return done(request, dgettext("lps_webhooks", "Queued again as delivery ${id}.", mapping={"id": copy.id}),
                "webhooks.delivery", id=copy.id)
