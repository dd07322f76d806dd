"""Views of the terminals screens (see the package's docstring). Thin: read the form through
lps_core.terminals.schemas, call lps_core.terminals.services, audit, answer. A terminal's key is
answered once, in the page of the POST that registered it (never in a URL, a flash or the log),
with no-store."""
from pyramid.httpexceptions import HTTPNotFound
from pyramid.view import view_config

from lps_core.errors import LpsError
from lps_core.operators.permissions import Permission
from lps_core.screens.config.forms import done, invalid
from lps_core.screens.shared import audit, chosen_outlet, dgettext, form_errors, outlets_in_scope
from lps_core.screens.shell.security import outlet_scope, require_outlet
from lps_core.terminals import services
from lps_core.terminals.schemas import SwipePoll, TerminalForm
from lps_core.terminals.waiting import ISwipeWaiters
from lps_core.validation import validate

TEMPLATE = "lps_core.screens.terminals:templates/{}.pt"
# How soon a cashier screen polls again when the server had no room for it to wait.
BUSY_RETRY_MS = 3000


def _form(request) -> dict:
    return {"name": request.POST.get("name", ""), "outlet": request.POST.get("outlet") or None,
            "operators": request.POST.getall("operators")}


def _read(request, errors):
    try:
        return validate(TerminalForm, _form(request), message="the form has invalid fields")
    except LpsError as exc:
        errors.update(form_errors(exc.fields or {}))
        return None


def _terminal_or_404(request):
    try:
        terminal = services.get_terminal(request.dbsession, int(request.matchdict["id"]))
    except LpsError:
        raise HTTPNotFound() from None
    require_outlet(request, terminal.outlet_id)
    return terminal


@view_config(route_name="terminals", renderer=TEMPLATE.format("terminals"), permission=Permission.CONFIG_MANAGE)
def terminals(request):
    """The terminals of the operator's outlets, live ones first."""
    return {"terminals": services.list_terminals(request.dbsession, outlet_scope(request))}


@view_config(route_name="terminals.new", renderer=TEMPLATE.format("terminal_form"),
             permission=Permission.CONFIG_MANAGE)
def new_terminal(request):
    """Register a terminal: its outlet, name and cashiers; saved, the page shows its key, once."""
    db = request.dbsession
    outlets = outlets_in_scope(request)
    form, errors = {"name": "", "outlet": request.GET.get("outlet", ""), "operators": []}, {}
    if request.method == "POST":
        form = _form(request)
        values = _read(request, errors)
        if values is not None:
            try:
                outlet = chosen_outlet(request, values.outlet, field="outlet", required=True,
                                       message="choose an outlet")
                terminal, key = services.create_terminal(db, outlet.id, values.name, values.operators,
                                                         by=request.identity.username)
            except LpsError as exc:
                errors.update(form_errors(exc.fields or {"name": str(exc)}))
            else:
                audit(request, "terminal.create", ("terminal", terminal.id), outlet_id=outlet.id,
                      after=services.terminal_fields(db, terminal))
                request.override_renderer = TEMPLATE.format("terminal_key")
                request.response.headers["Cache-Control"] = "no-store"
                return {"terminal": terminal, "outlet": outlet, "key": key}
        invalid(request, errors)
    outlet = next((o for o in outlets if o.code == form["outlet"]), outlets[0] if len(outlets) == 1 else None)
    cashiers = services.cashiers_of(db, outlet.id) if outlet is not None else []
    return {"terminal": None, "outlets": outlets, "outlet": outlet, "cashiers": cashiers, "form": form,
            "errors": errors}


@view_config(route_name="terminals.edit", renderer=TEMPLATE.format("terminal_form"),
             permission=Permission.CONFIG_MANAGE)
def edit_terminal(request):
    """Rename a terminal or change the cashiers it feeds (its outlet and key stay)."""
    db = request.dbsession
    terminal = _terminal_or_404(request)
    form = {"name": terminal.name, "operators": [str(i) for i in services.operator_ids_of(db, terminal.id)]}
    errors = {}
    if request.method == "POST" and terminal.revoked_at is None:
        form = _form(request)
        values = _read(request, errors)
        if values is not None:
            try:
                before, after = services.change_terminal(db, terminal, values.name, values.operators)
            except LpsError as exc:
                errors.update(form_errors(exc.fields or {"name": str(exc)}))
            else:
                audit(request, "terminal.update", ("terminal", terminal.id), outlet_id=terminal.outlet_id,
                      before=before, after=after)
                return done(request, dgettext("lps_config", "Terminal saved."), "terminals")
        invalid(request, errors)
    outlet = next(o for o in outlets_in_scope(request, inactive=True) if o.id == terminal.outlet_id)
    return {"terminal": terminal, "outlets": [outlet], "outlet": outlet,
            "cashiers": services.cashiers_of(db, terminal.outlet_id), "form": form, "errors": errors}


@view_config(route_name="terminals.revoke", request_method="POST", permission=Permission.CONFIG_MANAGE)
def revoke_terminal(request):
    """Revoke a terminal's key: its agent is refused at its next swipe and stops."""
    db = request.dbsession
    terminal = _terminal_or_404(request)
    before = services.terminal_fields(db, terminal)
    if services.revoke_terminal(db, terminal):
        audit(request, "terminal.revoke", ("terminal", terminal.id), outlet_id=terminal.outlet_id,
              before=before, after=services.terminal_fields(db, terminal))
    return done(request, dgettext("lps_config", "Terminal ${name} revoked.", mapping={"name": terminal.name}),
                "terminals")


@view_config(route_name="cashier.swipes", request_method="POST", renderer="json",
             permission=Permission.CASHIER_SETTLE)
def cashier_swipes(request):
    """The swipes of the terminals that feed the signed-in cashier at the outlet, waited for (long
    polling, lps_core.terminals.waiting). The request's own transaction is committed first: the
    wait holds none."""
    try:
        poll = validate(SwipePoll, dict(request.GET))
        outlet = chosen_outlet(request, poll.outlet, field="outlet", required=True, message="no such outlet")
    except LpsError as exc:
        request.response.status = exc.status
        return {"title": str(exc), "fields": exc.fields}
    operator_id = request.identity.id
    request.tm.commit()
    request.tm.begin()
    swipes, waited = request.registry.getUtility(ISwipeWaiters).wait_for_swipes(operator_id, outlet.id, poll.page)
    return {"swipes": swipes, "poll_again_ms": 0 if waited else BUSY_RETRY_MS}
