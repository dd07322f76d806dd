"""Sign-in (audited, throttled), sign-out, the forced password change, and the dashboard."""
from dataclasses import replace

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.security import NO_PERMISSION_REQUIRED, forget, remember
from pyramid.view import forbidden_view_config, view_config
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from lps_core.earning.models import EarningRule
from lps_core.errors import LpsError, ValidationFailed
from lps_core.i18n import _
from lps_core.members import dashboard
from lps_core.operators.models import Operator
from lps_core.operators.permissions import Permission
from lps_core.operators.schemas import PasswordChangeForm, SignInForm
from lps_core.operators.services import set_password, sign_in
from lps_core.outlets.models import Outlet
from lps_core.screens.shared import actor, form_errors
from lps_core.screens.shell.security import dead_session_cookie
from lps_core.timeutil import utcnow
from lps_core.validation import validate


@view_config(route_name="home", renderer="lps_core.screens.shell:templates/home.pt",
             permission=Permission.VIEW_DASHBOARD)
def home(request):
    """The dashboard: each panel shows to the roles whose permissions it serves, with the figures of
    the operator's outlets (all of them for the group's staff)."""
    db, identity = request.dbsession, request.identity
    scope = None if identity.all_outlets else identity.outlet_ids
    now = utcnow()
    panels = {"postings": dashboard.todays_postings(db, scope, request.programme.period_start("day", now))}
    if request.has_permission(Permission.MEMBERS_APPROVE):
        panels["pending"] = dashboard.pending_enrolments(db, scope)
    if request.has_permission(Permission.MEMBERS_VIEW):
        panels["appeals"] = dashboard.open_appeals(db, scope, now)
    if request.has_permission(Permission.CARDS_MANAGE) or request.has_permission(Permission.REPORTS_VIEW):
        panels["credit_alerts"] = dashboard.credit_alerts(db, scope)
        panels["pin_locked"] = dashboard.pin_locked_cards(db, scope, now)
    if request.has_permission(Permission.REPORTS_VIEW):
        panels["figures"], panels["figures_errors"] = _figures(request, scope)
        figures = panels["figures"]
        panels["figures_range"] = {"from": request.GET.get("from") or (figures and figures.first_day.isoformat()),
                                   "to": request.GET.get("to") or (figures and figures.last_day.isoformat())}
    if request.has_permission(Permission.CONFIG_MANAGE):
        panels["outlets"] = _outlets_with_rules(db)
        plugins = request.plugins
        panels["plugins"], panels["formulas"] = plugins.plugin_names(), sorted(plugins.formulas)
    return {"panels": panels}


def _figures(request, scope):
    """The date range's figures (lps_core.analytics.dashboard), or the errors of a bad range."""
    from lps_core.analytics.dashboard import dashboard_figures, range_filters
    from lps_core.analytics.settings import AnalyticsSettings
    from lps_core.reports.settings import ReportSettings
    from lps_core.reports.texts import translated
    from lps_core.screens.catalogue_views import chart_json

    tz = request.programme.timezone
    try:
        filters = range_filters(request.GET, utcnow().astimezone(tz).date())
        figures = dashboard_figures(request.dbsession, filters, tz, ReportSettings.from_mapping(request.registry.settings),
                                    AnalyticsSettings.from_mapping(request.registry.settings),
                                    allowed=None if scope is None else frozenset(scope))
    except LpsError as exc:
        request.response.status = exc.status
        return None, form_errors(exc.fields) or {"form": exc.message}
    sales = translated(replace(figures.sales, chart=figures.chart), request.localizer.translate)
    return replace(figures, sales=sales, chart=chart_json(sales)), {}


def _outlets_with_rules(db):
    versions = aliased(EarningRule)
    latest = select(func.max(versions.version)).where(versions.outlet_id == Outlet.id).scalar_subquery()
    return db.execute(
        select(Outlet.code, Outlet.name, EarningRule.formula, EarningRule.version)
        .outerjoin(EarningRule, (EarningRule.outlet_id == Outlet.id) & (EarningRule.version == latest))
        .where(Outlet.active.is_(True)).order_by(Outlet.code)
    ).all()


# Sign-in, sign-out and the password change are public by declaration: the authorization matrix
# test (tests/test_authz.py) fails any staff route that declares no permission at all.
@view_config(route_name="login", renderer="lps_core.screens.shell:templates/login.pt",
             permission=NO_PERMISSION_REQUIRED)
def login(request):
    next_url = _safe_next(request.params.get("next"))
    username = request.params.get("username", "")
    form = {"username": username if isinstance(username, str) else "", "error": None}
    if request.method == "POST":
        try:
            # Its shape only (text, no NUL, not too long): that tells nothing about who exists.
            given = validate(SignInForm, {"username": username, "password": request.params.get("password", "")},
                             message="the sign-in form has invalid fields")
        except LpsError as exc:
            request.response.status = 400
            form["error"] = "; ".join(f"{_field_label(request, name)} {message}"
                                      for name, message in form_errors(exc.fields).items())
            return {"form": form, "next": next_url}
        result = sign_in(request.dbsession, given.username, given.password, address=request.client_addr)
        if result.operator_id is None:
            request.response.status = 429 if result.throttled else 400
            form["error"] = result.error
        else:
            headers = remember(request, result.operator_id)
            target = (request.route_url("password") if result.must_change_password
                      else _landing(request, result.operator_id, next_url))
            return HTTPSeeOther(target, headers=headers)
    return {"form": form, "next": next_url}


@view_config(route_name="logout", request_method="POST", permission=NO_PERMISSION_REQUIRED)
def logout(request):
    return HTTPSeeOther(request.route_url("login"), headers=forget(request))


@view_config(route_name="password", renderer="lps_core.screens.shell:templates/password.pt",
             permission=NO_PERMISSION_REQUIRED)
def change_password(request):
    if request.identity is None:
        return HTTPSeeOther(request.route_url("login"))
    errors = {}
    if request.method == "POST":
        try:
            given = validate(PasswordChangeForm, {name: request.params.get(name, "") for name in ("password", "confirm")})
        except LpsError as exc:
            errors.update(form_errors(exc.fields))
        else:
            if given.password != given.confirm:
                errors["confirm"] = _("The two passwords differ.")
            else:
                try:
                    set_password(request.dbsession, request.identity.id, given.password,
                                 address=request.client_addr,
                                 actor=actor(request))
                except ValidationFailed as exc:
                    errors.update(exc.fields)
        if not errors:
            # Every session of the operator ended with the old password; this browser gets a new one.
            headers = remember(request, request.identity.id)
            request.session.flash(_("Your password has been changed."))
            return HTTPSeeOther(request.route_url("home"), headers=headers)
        request.response.status = 400
    return {"errors": errors}


@forbidden_view_config(renderer="lps_core.screens.shell:templates/forbidden.pt")
def forbidden(exc, request):
    if request.path.startswith("/api/"):
        request.response.status = 403
        request.override_renderer = "json"
        return {"error": "forbidden", "message": str(exc)}
    if request.identity is None:
        # A cookie whose session ended (signed out elsewhere, idle, password changed) is dropped.
        return HTTPSeeOther(request.route_url("login", _query={"next": request.path_qs}),
                            headers=dead_session_cookie(request))
    if request.identity.must_change_password:
        return HTTPSeeOther(request.route_url("password"))
    request.response.status = 403
    return {}


_FIELD_LABELS = {"username": _("User name"), "password": _("Password")}


def _field_label(request, name):
    """The label of a sign-in field as the form shows it, for a message naming it."""
    return request.localizer.translate(_FIELD_LABELS[name]) if name in _FIELD_LABELS else name


def _landing(request, operator_id, next_url):
    """Where a sign-in leads without a page asked for: a cashier's till, the cashier's screen;
    anyone else, the dashboard."""
    if next_url != "/":
        return next_url
    roles = (request.dbsession.get(Operator, operator_id).roles or "").split()
    return request.route_url("cashier") if "cashier" in roles else next_url


def _safe_next(value):
    """Only a local path: never redirect a signed-in operator to another site."""
    if isinstance(value, str) and value.startswith("/") and not value.startswith("//"):
        return value
    return "/"


