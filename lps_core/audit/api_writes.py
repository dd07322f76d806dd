"""Records every successful write through the JSON API in the audit log.

A tween between pyramid_tm and the view: it sees the final response of each request while the
request's transaction is still open, so a request that fails (or rolls back) records nothing.
The entry names the API key (its prefix and label) and its outlet, the route, the URL's
parameters, and the response's top-level plain values (ids, status, amounts, balances)."""
import json

from sqlalchemy import select

from lps_core.apikeys.models import ApiKey
from lps_core.audit.services import Actor, record

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_SUMMARY_KEYS = 20
MAX_SUMMARY_TEXT = 200


def api_write_tween_factory(handler, registry):
    def api_write_tween(request):
        response = handler(request)
        if (request.method not in READ_METHODS and 200 <= response.status_code < 300
                and request.path.startswith("/api/") and request.matched_route is not None):
            record_api_write(request, response)
        return response

    return api_write_tween


def record_api_write(request, response):
    key = _api_key(request)
    if key is None:  # a write that needs no key would be a bug; record it as such rather than drop it
        actor, outlet_id = Actor("api_key", "unknown"), None
    else:
        actor = Actor.api_key(key.id, f"{key.prefix} ({key.label})" if key.label else key.prefix)
        outlet_id = key.outlet_id
    matchdict = request.matchdict or {}
    record(request.dbsession, actor=actor, action=request.matched_route.name,
           target=(request.matched_route.name, ",".join(f"{k}={v}" for k, v in sorted(matchdict.items())))
           if matchdict else None,
           after=_summary(response), address=request.client_addr, outlet_id=outlet_id)


def _api_key(request):
    parts = request.headers.get("Authorization", "").removeprefix("Bearer ").strip().split("_", 2)
    if len(parts) != 3:
        return None
    return request.dbsession.execute(
        select(ApiKey.id, ApiKey.prefix, ApiKey.label, ApiKey.outlet_id).where(ApiKey.prefix == parts[1])
    ).one_or_none()


def _summary(response):
    """The response's top-level plain values: enough to find what was written, never a whole document."""
    if response.content_type != "application/json":
        return None
    try:
        body = json.loads(response.body)
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    summary = {}
    for name, value in list(body.items())[:MAX_SUMMARY_KEYS]:
        if isinstance(value, str):
            summary[name] = value[:MAX_SUMMARY_TEXT]
        elif value is None or isinstance(value, (bool, int, float)):
            summary[name] = value
    return summary
