"""Webhook endpoints, the events published to them, and their delivery log.

Publishing: `publish(db, endpoint_ids, event_type, data)` writes one delivery row per endpoint, in
ONE INSERT, in the caller's transaction (the outbox pattern: a change that rolls back publishes
nothing, one that commits cannot lose its events). LPS's listeners (lps_core.webhooks.listeners)
call it with the endpoints the cached subscriptions name, so an event nobody subscribes to costs
no SQL.

Every change to an endpoint returns its before and after for the audit log (the secret is never in
them) and forgets the cached subscriptions (lps_core.webhooks.subscriptions)."""
import ipaddress
import json
import secrets
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import func, insert, select

from lps_core.errors import Conflict, NotFound, Unprocessable
from lps_core.timeutil import isoformat, utcnow
from lps_core.webhooks.models import QUEUED, SENDING, WebhookDelivery, WebhookEndpoint
from lps_core.webhooks.subscriptions import forget

MEMBER_APPROVED = "member.approved"
POINTS_POSTED = "points.posted"
TIER_CHANGED = "tier.changed"
REDEMPTION_RESERVED = "redemption.reserved"
REDEMPTION_FULFILLED = "redemption.fulfilled"
REDEMPTION_CANCELLED = "redemption.cancelled"
EVENT_TYPES = (MEMBER_APPROVED, POINTS_POSTED, TIER_CHANGED, REDEMPTION_RESERVED, REDEMPTION_FULFILLED,
               REDEMPTION_CANCELLED)
SECRET_PREFIX = "whsec_"
MIN_SECRET_LENGTH = 24
ENDPOINT_FIELDS = ("name", "url", "events", "active")


# --- Endpoints ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class EndpointValues:
    """What staff set on an endpoint (lps_core.webhooks.schemas checks the form first)."""

    name: str
    url: str
    events: tuple
    active: bool = True


def new_secret() -> str:
    """A signing secret: 32 random bytes, URL-safe, with a prefix that says what it is."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def check_url(url, *, allow_http=False) -> str:
    """An absolute http(s) URL; plain http only to the loopback (a receiver on the same machine)
    unless allow_http (lps.webhooks.allow_http). 422 naming `url` otherwise."""
    if not url.isascii() or not url.isprintable() or " " in url:
        raise Unprocessable("the URL must be plain ASCII without spaces",
                            {"url": "must be ASCII without spaces (percent-encode it; punycode for the host)"})
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (read to check it: a port out of range raises)
    except ValueError as exc:
        raise Unprocessable(f"the URL cannot be read: {exc}", {"url": f"is not a valid URL ({exc})"}) from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise Unprocessable("the URL must be an absolute https:// address", {"url": "must start with https://"})
    if parts.username or parts.password:
        raise Unprocessable("the URL must not carry a user name or password", {"url": "must not hold credentials"})
    if parts.fragment:
        raise Unprocessable("the URL must not have a #fragment", {"url": "must not have a #fragment"})
    if parts.scheme == "http" and not allow_http and not _loopback(parts.hostname):
        raise Unprocessable("webhooks are sent over https", {"url": "must start with https:// (http only to localhost)"})
    return url


def _loopback(host) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_events(events) -> tuple:
    unknown = [name for name in events if name not in EVENT_TYPES]
    if unknown:
        raise Unprocessable(f"unknown event {unknown[0]!r}", {"events": f"unknown event {unknown[0]}"})
    if not events:
        raise Unprocessable("an endpoint subscribes to at least one event", {"events": "choose at least one event"})
    return tuple(name for name in EVENT_TYPES if name in events)


def create_endpoint(db, values: EndpointValues, *, secret=None, allow_http=False) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret (given, or made here), to show once."""
    check_url(values.url, allow_http=allow_http)
    events = check_events(values.events)
    _check_name_free(db, values.name)
    secret = _check_secret(secret) if secret else new_secret()
    now = utcnow()
    endpoint = WebhookEndpoint(name=values.name, url=values.url, secret=secret, events=list(events),
                               active=values.active, created_at=now, updated_at=now, secret_set_at=now)
    db.add(endpoint)
    db.flush()
    forget(db)
    return endpoint, secret


def update_endpoint(db, endpoint_id, values: EndpointValues, *, allow_http=False) -> dict:
    """Change an endpoint's name, URL, events and switch; {"before", "after"} for the audit log."""
    endpoint = get_endpoint(db, endpoint_id, for_update=True)
    check_url(values.url, allow_http=allow_http)
    events = check_events(values.events)
    if values.name != endpoint.name:
        _check_name_free(db, values.name)
    before = endpoint_fields(endpoint)
    endpoint.name, endpoint.url, endpoint.events, endpoint.active = values.name, values.url, list(events), values.active
    endpoint.updated_at = utcnow()
    db.flush()
    forget(db)
    return {"before": before, "after": endpoint_fields(endpoint)}


def replace_secret(db, endpoint_id, secret=None) -> str:
    """A new secret for the endpoint (given, or made here), to show once. Deliveries not yet sent
    are signed with it: the receiver must take the new secret before the next delivery."""
    endpoint = get_endpoint(db, endpoint_id, for_update=True)
    endpoint.secret = _check_secret(secret) if secret else new_secret()
    endpoint.secret_set_at = endpoint.updated_at = utcnow()
    db.flush()
    return endpoint.secret


def _check_secret(secret) -> str:
    if len(secret) < MIN_SECRET_LENGTH or len(secret) > 200 or not secret.isprintable() or " " in secret:
        raise Unprocessable("the secret is too weak", {"secret": f"must be {MIN_SECRET_LENGTH} to 200 characters "
                                                                 "without spaces (leave empty to have one made)"})
    return secret


def _check_name_free(db, name):
    if db.scalar(select(WebhookEndpoint.id).where(WebhookEndpoint.name == name)) is not None:
        raise Conflict(f"an endpoint named {name!r} exists", {"name": "already used by another endpoint"})


def get_endpoint(db, endpoint_id, *, for_update=False) -> WebhookEndpoint:
    query = select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id)
    endpoint = db.scalar(query.with_for_update() if for_update else query)
    if endpoint is None:
        raise NotFound(f"webhook endpoint {endpoint_id} does not exist", {"id": "no such endpoint"})
    return endpoint


def endpoint_fields(endpoint) -> dict:
    """What the audit log keeps of an endpoint: never its secret."""
    return {"name": endpoint.name, "url": endpoint.url, "events": list(endpoint.events), "active": endpoint.active}


def list_endpoints(db) -> list[tuple]:
    """Every endpoint with its delivery counts: [(endpoint, {status: count})], by name."""
    endpoints = db.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.name)).all()
    counts = {}
    for endpoint_id, status, count in db.execute(
            select(WebhookDelivery.endpoint_id, WebhookDelivery.status, func.count())
            .group_by(WebhookDelivery.endpoint_id, WebhookDelivery.status)):
        counts.setdefault(endpoint_id, {})[status] = count
    return [(endpoint, counts.get(endpoint.id, {})) for endpoint in endpoints]


# --- Events ---------------------------------------------------------------------------------------

def event_body(event_id, event_type, data, created_at) -> str:
    """The JSON text of an event, as signed and sent: compact, keys sorted, UTF-8 (not escaped)."""
    return json.dumps({"id": event_id, "type": event_type, "created_at": isoformat(created_at), "data": data},
                      ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def publish(db, endpoint_ids, event_type, data) -> str | None:
    """Queue the event for each endpoint, in one INSERT in the caller's transaction; its id, or None
    when no endpoint is named (then nothing is written)."""
    if not endpoint_ids:
        return None
    now = utcnow()
    event_id = f"evt_{uuid.uuid4().hex}"
    body = event_body(event_id, event_type, data, now)
    db.execute(insert(WebhookDelivery).values([
        {"endpoint_id": endpoint_id, "event_id": event_id, "event_type": event_type, "body": body,
         "status": QUEUED, "tries": 0, "next_attempt_at": now, "created_at": now}
        for endpoint_id in endpoint_ids]))
    return event_id


# --- The log and re-sending -----------------------------------------------------------------------

def deliveries_query(endpoint_id, *, status=None, event_type=None):
    query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
    if status:
        query = query.where(WebhookDelivery.status == status)
    if event_type:
        query = query.where(WebhookDelivery.event_type == event_type)
    return query


def get_delivery(db, delivery_id) -> WebhookDelivery:
    delivery = db.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise NotFound(f"webhook delivery {delivery_id} does not exist", {"id": "no such delivery"})
    return delivery


def resend(db, delivery_id, *, by) -> tuple[WebhookDelivery, dict]:
    """Send a delivery again, whatever became of it: a new delivery of the same event (same event
    id and body, signed afresh when sent) to the same endpoint, queued now with a fresh set of tries.
    The original row stays as it is in the log. A delivery still waiting or being sent is 409 (it
    is going anyway), and so is one whose endpoint is switched off."""
    original = get_delivery(db, delivery_id)
    if original.status in (QUEUED, SENDING):
        raise Conflict(f"delivery {delivery_id} is {original.status}: it is being sent already",
                       {"id": f"is {original.status}"})
    endpoint = get_endpoint(db, original.endpoint_id)
    if not endpoint.active:
        raise Conflict(f"endpoint {endpoint.name!r} is switched off", {"id": "its endpoint is switched off"})
    now = utcnow()
    copy = WebhookDelivery(endpoint_id=original.endpoint_id, event_id=original.event_id,
                           event_type=original.event_type, body=original.body, status=QUEUED, tries=0,
                           next_attempt_at=now, created_at=now, resent_from_id=original.id, resent_by=by)
    db.add(copy)
    db.flush()
    return copy, {"delivery": original.id, "status": original.status, "event_id": original.event_id,
                  "event_type": original.event_type, "new_delivery": copy.id}



def resends_of(db, delivery_id) -> list[WebhookDelivery]:
    """The deliveries re-sent from this one, oldest first."""
    return db.scalars(select(WebhookDelivery).where(WebhookDelivery.resent_from_id == delivery_id)
                      .order_by(WebhookDelivery.id)).all()
