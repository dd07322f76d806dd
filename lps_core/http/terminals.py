"""The terminal API: what `lps terminal` calls with its terminal key (`lpt_...`, made on the
terminals screen; no API key opens it). GET /api/v1/terminal names the terminal (the agent checks
its key with it at start); POST /api/v1/terminal/swipes hands LPS one swipe for the cashier screens
the terminal feeds. Thin: check the key, read the body through the operation's schema, call
lps_core.terminals.services, and wake the waiting cashier screens once the swipe is committed."""
from pyramid.view import view_config
from sqlalchemy import select

from lps_core.errors import Unauthorized
from lps_core.http.document import answer, problems
from lps_core.http.operations import Operation, read_body
from lps_core.http.request import bearer_key
from lps_core.outlets.models import Outlet
from lps_core.terminals import services
from lps_core.terminals.schemas import SwipeBody
from lps_core.terminals.waiting import ISwipeWaiters
from lps_core.timeutil import isoformat

SCOPE = "terminal"
KEY = "Send the terminal's key (lpt_..., shown once when the terminal was registered) as a bearer token; " \
      "an API key does not open it."


def includeme(config):
    config.include("lps_core.terminals")
    config.add_route("api.terminal", "/api/v1/terminal")
    config.add_route("api.terminal_swipes", "/api/v1/terminal/swipes")
    config.add_api_operations(OPERATIONS, SCHEMAS)
    config.scan(__name__)


OPERATIONS = [
    Operation("api.terminal", "get", "getTerminal", "The terminal whose key is sent",
              {"200": answer("The terminal", "Terminal"), **problems(401)}, scope=SCOPE,
              description=f"{KEY} A revoked key is 401, and the agent stops."),
    Operation("api.terminal_swipes", "post", "sendSwipe", "Hand LPS a card swiped or a tag tapped at the terminal",
              {"201": answer("Received: a cashier screen the terminal feeds will get it", "SwipeReceived"),
               "200": answer("A swipe with this id was received already: it is not handed out twice",
                             "SwipeReceived"),
               **problems(401, 413, 422)}, scope=SCOPE, body=SwipeBody,
              description=f"{KEY} A swipe carries a card number or a tag id, never a PIN. A tag is resolved to "
                          "the card it is registered on; a tag on no card is received, and the cashier screen "
                          "says so. Once `expires_in` seconds have passed no screen receives it."),
]

SCHEMAS = {
    "Terminal": {"type": "object", "properties": {
        "name": {"type": "string"}, "outlet": {"type": "string"},
        "last_seen_at": {"type": "string", "format": "date-time", "nullable": True}}},
    "SwipeReceived": {"type": "object", "properties": {
        "id": {"type": "string", "description": "The swipe's id as sent"},
        "duplicate": {"type": "boolean"},
        "card_found": {"type": "boolean", "description": "False for a tag registered on no card"}}},
}


def _terminal(request):
    terminal = services.check_key(request.dbsession, bearer_key(request))
    if terminal is None:
        raise Unauthorized("the terminal key is not valid or the terminal has been revoked",
                           {"Authorization": "invalid terminal key"})
    return terminal


@view_config(route_name="api.terminal", request_method="GET", require_csrf=False, renderer="json")
def terminal_itself(request):
    terminal = _terminal(request)
    outlet = request.dbsession.scalar(select(Outlet.code).where(Outlet.id == terminal.outlet_id))
    return {"name": terminal.name, "outlet": outlet,
            "last_seen_at": isoformat(terminal.last_seen_at) if terminal.last_seen_at else None}


@view_config(route_name="api.terminal_swipes", request_method="POST", require_csrf=False, renderer="json")
def send_swipe(request):
    terminal = _terminal(request)
    body = read_body(request)
    swipe, duplicate = services.record_swipe(request.dbsession, terminal, body.swipe())
    if not duplicate:
        waiters = request.registry.getUtility(ISwipeWaiters)
        request.tm.get().addAfterCommitHook(lambda committed: committed and waiters.swipe_recorded())
    request.response.status = 200 if duplicate else 201
    return {"id": swipe.swipe_id, "duplicate": duplicate, "card_found": swipe.card_no is not None}
