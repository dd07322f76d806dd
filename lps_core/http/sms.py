"""The webhook of inbound SMS: `POST /hooks/sms/inbound`, called by the SMS gateway; the commands
themselves are lps_core.sms's. Included by lps_core.sms, outside /api/v1: the gateway is no API
client and signs its own way.

It is authenticated by the gateway's signature, not by a session or an API key (so no CSRF token
either). Answers are JSON: 200 `{"status": "received"}` once the command is done and its answer
queued; a refusal is a problem (`application/problem+json`) naming the field: 403 `signature` or
`timestamp`, 409 `nonce` (a replay), 400 for a missing field. While lps.sms.inbound_secret is not
set the webhook does not exist (404)."""
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from lps_core.errors import LpsError, NotFound
from lps_core.sms.commands import handle_inbound
from lps_core.sms.inbound import read_inbound
from lps_core.timeutil import utcnow

PROBLEM_JSON = "application/problem+json"


def includeme(config):
    config.add_route("sms.inbound", "/hooks/sms/inbound")
    config.scan("lps_core.http.sms")


@view_config(route_name="sms.inbound", request_method="POST", renderer="json", require_csrf=False,
             permission=NO_PERMISSION_REQUIRED)
def sms_inbound(request):
    settings = request.lps_settings
    try:
        if not settings.sms.inbound_secret:
            raise NotFound("no SMS webhook: lps.sms.inbound_secret is not set")
        now = utcnow()
        inbound = read_inbound(request, settings.sms, now)
        handled = handle_inbound(request.dbsession, settings, inbound, now=now)
    except LpsError as exc:
        request.response.status = exc.status
        request.response.content_type = PROBLEM_JSON
        return exc.as_json()
    return {"status": "received", "id": handled.inbound_id}
