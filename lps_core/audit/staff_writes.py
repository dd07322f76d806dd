"""Records a successful write made on the staff screens that recorded no entry of its own: the
safety net under the business entries ("member.edit" with its before and after) that the screens
and services record themselves. So each action gives one entry, and none is forgotten. A POST
that wrote nothing (a form sent twice, answered from its first result) records nothing, except
for the routes of ROUTE_ACTIONS, which are actions in themselves (signing out).

A tween between pyramid_tm and the view, like api_writes.py: it sees the response while the
request's transaction is still open, so a POST that fails (status 400 and up, or an exception)
records nothing. The entry names the signed-in operator, the action (the route's name, or the
business code of a route listed in ROUTE_ACTIONS), the URL's parameters and the form's filled-in
fields. lps_core.audit.services.record drops the secrets among them (passwords, PINs, the CSRF
token, a "confirm" field) and masks personal data."""
from lps_core.audit.services import Actor, record, recorded_in, writes_in

MAX_FIELD_TEXT = 200
# Routes whose POST is an action with a business name; the others are recorded under their route.
ROUTE_ACTIONS = {"logout": "operator.sign_out"}
# POSTs that change nothing: a language choice, a preview of a bill's points.
NOT_RECORDED = frozenset({"locale", "config.preview"})


def staff_write_tween_factory(handler, registry):
    def staff_write_tween(request):
        if request.method != "POST" or request.path.startswith("/api/"):
            return handler(request)
        # Who it is must be known before the view runs: signing out ends the session. Looking the
        # session up may write (its last use), so the view's own writes are counted from here.
        operator = request.identity
        writes = writes_in(request.dbsession)
        response = handler(request)
        route = request.matched_route.name if request.matched_route is not None else None
        if (operator is not None and response.status_code < 400 and route is not None and route not in NOT_RECORDED
                and not recorded_in(request.dbsession)
                and (route in ROUTE_ACTIONS or writes_in(request.dbsession) > writes)):
            record_staff_write(request, operator)
        return response

    return staff_write_tween


def record_staff_write(request, operator):
    matchdict = request.matchdict or {}
    route = request.matched_route.name
    record(request.dbsession, actor=Actor.operator(operator.id, operator.username),
           action=ROUTE_ACTIONS.get(route, route),
           target=(route, ",".join(f"{k}={v}" for k, v in sorted(matchdict.items()))) if matchdict else None,
           after=form_fields(request.POST), address=request.client_addr)


def form_fields(form) -> dict:
    """The posted fields: a list where a field was sent more than once, a file by its name. Blank
    fields and secrets are left out later, by `record`."""
    fields = {}
    for name, values in form.dict_of_lists().items():
        values = [_plain(value) for value in values]
        fields[name] = values[0] if len(values) == 1 else values
    return fields


def _plain(value):
    if not isinstance(value, str):  # an uploaded file
        return getattr(value, "filename", None)
    return value[:MAX_FIELD_TEXT]
