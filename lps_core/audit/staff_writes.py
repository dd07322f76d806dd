"""Records every successful write made on the staff screens in the audit log: the safety net under
the before/after entries the screens record themselves.

A tween between pyramid_tm and the view, like api_writes.py: it sees the response while the
request's transaction is still open, so a POST that fails (status 400 and up, or an exception)
records nothing. The entry names the signed-in operator, the route, the URL's parameters and the
form's fields, without the CSRF token and without any field whose name mentions a password, a PIN,
a secret or a confirmation (a "confirm" field repeats a new password)."""
from lps_core.audit.services import Actor, record

MAX_FIELD_TEXT = 200
SECRET_WORDS = ("password", "pin", "secret", "confirm")
NOT_RECORDED = frozenset({"csrf_token"})


def staff_write_tween_factory(handler, registry):
    def staff_write_tween(request):
        if request.method != "POST" or request.path.startswith("/api/"):
            return handler(request)
        # Who it is must be known before the view runs: signing out ends the session.
        operator = request.identity
        response = handler(request)
        if operator is not None and response.status_code < 400 and request.matched_route is not None:
            record_staff_write(request, operator)
        return response

    return staff_write_tween


def record_staff_write(request, operator):
    matchdict = request.matchdict or {}
    route = request.matched_route.name
    record(request.dbsession, actor=Actor.operator(operator.id, operator.username), action=route,
           target=(route, ",".join(f"{k}={v}" for k, v in sorted(matchdict.items()))) if matchdict else None,
           after=form_fields(request.POST), address=request.client_addr)


def form_fields(form) -> dict:
    """The posted fields worth keeping: a list where a field was sent more than once, a file by its name."""
    fields = {}
    for name, values in form.dict_of_lists().items():
        if name in NOT_RECORDED or any(word in name.lower() for word in SECRET_WORDS):
            continue
        values = [_plain(value) for value in values]
        fields[name] = values[0] if len(values) == 1 else values
    return fields


def _plain(value):
    if not isinstance(value, str):  # an uploaded file
        return getattr(value, "filename", None)
    return value[:MAX_FIELD_TEXT]
