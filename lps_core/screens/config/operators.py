"""Operators and roles: the list (search, sort, pages), creating an operator with roles and an
outlet scope, changing roles and scope, resetting a password, disabling and enabling. The
operators service audits each change. Only an operator of every outlet may change operators, so a
scoped administrator cannot grant more than they hold."""
from pyramid.httpexceptions import HTTPNotFound
from pyramid.view import view_config
from sqlalchemy import literal, or_, select

from lps_core.screens.config.forms import (
    code_list, done, invalid, require_all_outlets, role_label, text,
)
from lps_core.screens.shared import actor, dgettext, form_errors

from lps_core.errors import LpsError
from lps_core.members.schemas import filled
from lps_core.operators import services as operators
from lps_core.operators.models import Operator
from lps_core.operators.permissions import Permission
from lps_core.operators.roles import ROLES
from lps_core.operators.schemas import (
    NewOperatorForm,
    OperatorRolesForm,
    PasswordResetForm,
)
from lps_core.screens.shell.lists import paginate
from lps_core.validation import validate

SORTS = {"username": Operator.username, "name": Operator.display_name, "last_login": Operator.last_login_at,
         "created": Operator.created_at}


@view_config(route_name="operators", renderer="lps_core.screens.config:templates/operators.pt",
             permission=Permission.OPERATORS_MANAGE)
def list_operators(request):
    db = request.dbsession
    search = {"q": request.params.get("q", "").strip(), "role": request.params.get("role", "")}
    query = select(Operator.id, Operator.username, Operator.display_name, Operator.roles, Operator.active,
                   Operator.last_login_at)
    if search["q"]:
        pattern = f"%{search['q'].lower()}%"
        query = query.where(or_(Operator.username.ilike(pattern), Operator.display_name.ilike(pattern)))
    if search["role"] in ROLES:  # roles are kept as space-separated names
        query = query.where((literal(" ") + Operator.roles + " ").like(f"% {search['role']} %"))
    page = paginate(db, request, query, SORTS, "username", params=search)
    scopes = {row.id: operators.describe_operator(db, row.id)["outlets"] for row in page.items}
    return {"page": page, "search": search, "roles": list(ROLES), "scopes": scopes, "role_label": role_label}


@view_config(route_name="operators.new", renderer="lps_core.screens.config:templates/operator_new.pt",
             permission=Permission.OPERATORS_MANAGE)
def new_operator(request):
    form = {"username": "", "display_name": "", "roles": [], "outlets": ""}
    errors = {}
    if request.method == "POST":
        require_all_outlets(request)
        form = {"username": text(request, "username"), "display_name": text(request, "display_name"),
                "roles": request.POST.getall("roles"), "outlets": text(request, "outlets")}
        try:
            given = validate(NewOperatorForm, {
                **filled(request.POST, ("username", "display_name", "outlets")),
                "password": request.POST.get("password", ""), "roles": request.POST.getall("roles")})
            operator_id = operators.create_operator(
                request.dbsession, given.username, given.password, display_name=given.display_name,
                roles=given.roles, outlets=code_list(given.outlets or ""), must_change_password=True,
                actor=actor(request), address=request.client_addr)
        except LpsError as exc:
            errors = invalid(request, form_errors(exc.fields))
        else:
            message = dgettext("lps_config", "Operator created. They choose their own password at the first sign-in.")
            return done(request, message, "operators.edit", id=operator_id)
    return {"form": form, "errors": errors, "roles": list(ROLES), "role_label": role_label}


@view_config(route_name="operators.edit", renderer="lps_core.screens.config:templates/operator_edit.pt",
             permission=Permission.OPERATORS_MANAGE)
def edit_operator(request):
    db = request.dbsession
    operator = _operator(request)
    if request.method == "POST":
        require_all_outlets(request)
        form = {"roles": request.POST.getall("roles"), "outlets": text(request, "outlets")}
        try:
            given = validate(OperatorRolesForm, {**filled(request.POST, ("outlets",)),
                                                 "roles": request.POST.getall("roles")})
            operators.set_roles(db, operator.id, given.roles, code_list(given.outlets or ""), actor=actor(request),
                                address=request.client_addr)
        except LpsError as exc:
            return _edit_page(request, operator, invalid(request, form_errors(exc.fields)), form)
        return done(request, dgettext("lps_config", "Roles and outlets saved."), "operators.edit", id=operator.id)
    return _edit_page(request, operator, {})


@view_config(route_name="operators.password", request_method="POST",
             renderer="lps_core.screens.config:templates/operator_edit.pt", permission=Permission.OPERATORS_MANAGE)
def reset_password(request):
    """A temporary password the operator must change at their next sign-in."""
    require_all_outlets(request)
    operator = _operator(request)
    try:
        given = validate(PasswordResetForm, {"password": request.POST.get("password", "")})
        operators.set_password(request.dbsession, operator.id, given.password,
                               must_change_password=True, actor=actor(request), address=request.client_addr)
    except LpsError as exc:
        return _edit_page(request, operator, invalid(request, {"password": exc.fields.get("password", exc.message)}))
    message = dgettext("lps_config", "Password reset. The operator must choose a new one at the next sign-in.")
    return done(request, message, "operators.edit", id=operator.id)


@view_config(route_name="operators.active", request_method="POST",
             renderer="lps_core.screens.config:templates/operator_edit.pt", permission=Permission.OPERATORS_MANAGE)
def set_active(request):
    require_all_outlets(request)
    operator = _operator(request)
    wanted = request.POST.get("active")
    if wanted not in ("0", "1") or operator.id == request.identity.id:
        if operator.id == request.identity.id:
            problem = dgettext("lps_config", "You cannot disable your own account.")
        else:
            problem = dgettext("lps_config", "Choose enable or disable.")
        return _edit_page(request, operator, invalid(request, {"active": problem}))
    operators.set_active(request.dbsession, operator.id, wanted == "1", actor=actor(request),
                         address=request.client_addr)
    if wanted == "1":
        message = dgettext("lps_config", "Operator enabled.")
    else:
        message = dgettext("lps_config", "Operator disabled: they can no longer sign in.")
    return done(request, message, "operators.edit", id=operator.id)


def _edit_page(request, operator, errors, form=None):
    if form is None:
        described = operators.describe_operator(request.dbsession, operator.id)
        form = {"roles": described["roles"], "outlets": ", ".join(described["outlets"])}
    return {"operator": operator, "form": form, "errors": errors, "roles": list(ROLES), "role_label": role_label}


def _operator(request) -> Operator:
    raw = request.matchdict["id"]
    operator = request.dbsession.get(Operator, int(raw)) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None
    if operator is None:
        raise HTTPNotFound()
    return operator
