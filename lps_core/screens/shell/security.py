"""Who is signed in and what they may do on the staff screens.

Staff sessions live on the server (lps_core.operators.sessions): the `lps_staff` cookie holds only
a random token, looked up on every request, so signing out, a password change or disabling the
operator ends a session even in a browser that kept the cookie. A session idle for longer than
`lps.session.idle_timeout` seconds is ended with a message. Pyramid's own signed session
(`lps_session`) carries only the CSRF token and flash messages, never who is signed in.

A view declares the permission it needs (`@view_config(..., permission=Permission.X)`), which the
operator's roles must grant; a view about one outlet also calls `require_outlet(request, outlet_id)`."""
import time
from datetime import datetime, timezone

from pyramid.httpexceptions import HTTPForbidden
from pyramid.interfaces import ISecurityPolicy
from pyramid.security import Allowed, Denied
from webob.cookies import make_cookie

from lps_core.i18n import _
from lps_core.operators.access import operator_may
from lps_core.operators.services import get_operator
from lps_core.operators.sessions import check_session, end_session, start_session

COOKIE_NAME = "lps_staff"
_UNSET = object()
# Pages that are not staff screens: the members' portal (its own session), the public unsubscribe
# page and gateways' webhooks. A staff cookie the browser also sends there identifies nobody, so
# nothing done there is done, or audited, as an operator.
NOT_STAFF_PATHS = ("/portal/", "/unsubscribe/", "/hooks/")


def is_staff_path(path) -> bool:
    return path != "/portal" and not path.startswith(NOT_STAFF_PATHS)


def clock() -> float:
    return time.time()


def _now() -> datetime:
    return datetime.fromtimestamp(clock(), timezone.utc)


class StaffSecurityPolicy:
    def __init__(self, idle_seconds, *, secure=False):
        self.idle_seconds = idle_seconds
        self.secure = secure

    def identity(self, request):
        """The signed-in operator (an OperatorIdentity) or None; looked up once per request."""
        cached = request.__dict__.get("_lps_identity", _UNSET)
        if cached is not _UNSET:
            return cached
        if not is_staff_path(request.path):
            return None
        identity = None
        check = check_session(request.dbsession, request.cookies.get(COOKIE_NAME), _now(), self.idle_seconds)
        if check.idle:
            request.session.invalidate()
            request.session.flash(_("You were signed out after a while without activity. Please sign in again."))
        elif check.operator_id is not None:
            identity = get_operator(request.dbsession, check.operator_id)
        request.__dict__["_lps_identity"] = identity
        return identity

    def authenticated_userid(self, request):
        identity = request.identity
        return identity.id if identity is not None else None

    def permits(self, request, context, permission):
        identity = request.identity
        if identity is None:
            return Denied("not signed in")
        if identity.must_change_password:
            return Denied("must change password first")
        if operator_may(identity, permission):
            return Allowed(f"a role of {identity.username} grants {permission}")
        return Denied(f"no role of {identity.username} grants {permission}")

    def remember(self, request, userid, **kw):
        """Start a new server session (a fresh token and CSRF token: no session fixation)."""
        request.session.invalidate()
        token = start_session(request.dbsession, userid, _now(), address=request.client_addr,
                              idle_seconds=self.idle_seconds)
        request.__dict__.pop("_lps_identity", None)
        return [("Set-Cookie", self.session_cookie(token))]

    def forget(self, request, **kw):
        """End this browser's server session, whatever becomes of its cookie."""
        end_session(request.dbsession, request.cookies.get(COOKIE_NAME))
        request.session.invalidate()
        request.__dict__["_lps_identity"] = None
        return [("Set-Cookie", self.session_cookie(None))]

    def session_cookie(self, token):
        """The session cookie: the token only, for the browser session; empty and expired to forget."""
        return make_cookie(COOKIE_NAME, token or "", max_age=None if token else 0, path="/", secure=self.secure,
                           httponly=True, samesite="Lax")


def dead_session_cookie(request) -> list:
    """Headers that drop the browser's session cookie when it names no live session (so the next
    request neither looks it up again nor repeats the idle message); none otherwise."""
    policy = request.registry.queryUtility(ISecurityPolicy)
    if COOKIE_NAME not in request.cookies or request.identity is not None or not isinstance(policy, StaffSecurityPolicy):
        return []
    return [("Set-Cookie", policy.session_cookie(None))]


def require_outlet(request, outlet_id):
    """Stop with 403 unless the signed-in operator's scope covers `outlet_id`."""
    identity = request.identity
    if identity is None or not identity.covers_outlet(outlet_id):
        raise HTTPForbidden("this outlet is outside your scope")


def outlet_scope(request):
    """The ids of the outlets the signed-in operator works for, or None for every outlet: the
    `outlets` fence that services take."""
    identity = request.identity
    if identity is None:
        return frozenset()
    return None if identity.all_outlets else identity.outlet_ids
