"""Who is signed in and what they may do on the staff screens.

The signed session cookie carries the operator id and when the operator was last seen; a session
idle for longer than `lps.session.idle_timeout` seconds is ended with a message. A view declares
the permission it needs (`@view_config(..., permission=Permission.X)`), which the operator's roles
must grant; a view about one outlet also calls `require_outlet(request, outlet_id)`."""
import time

from pyramid.httpexceptions import HTTPForbidden
from pyramid.security import Allowed, Denied

from lps_core.i18n import _
from lps_core.operators.access import operator_may
from lps_core.operators.services import get_operator

# Seen-time is rewritten at most this often, so not every request re-sends the cookie.
SEEN_RESOLUTION = 60


def clock() -> float:
    return time.time()


class StaffSecurityPolicy:
    def __init__(self, idle_seconds):
        self.idle_seconds = idle_seconds

    def identity(self, request):
        session = request.session
        operator_id = session.get("operator_id")
        if operator_id is None:
            return None
        now = clock()
        seen = session.get("seen", 0)
        if now - seen > self.idle_seconds:
            session.invalidate()
            session.flash(_("You were signed out after a while without activity. Please sign in again."))
            return None
        if now - seen > SEEN_RESOLUTION:
            session["seen"] = now
        return get_operator(request.dbsession, operator_id)

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
        request.session.invalidate()  # a fresh session on sign-in: no session fixation
        request.session["operator_id"] = userid
        request.session["seen"] = clock()
        return []

    def forget(self, request, **kw):
        request.session.invalidate()
        return []


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
