"""Who is signed in: the operator id kept in the signed session cookie.

Until roles arrive, every active operator who has set their own password holds every permission."""
from pyramid.security import Allowed, Denied

from lps_core.operators.services import get_operator


class StaffSecurityPolicy:
    def identity(self, request):
        operator_id = request.session.get("operator_id")
        if operator_id is None:
            return None
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
        return Allowed("signed-in operator")

    def remember(self, request, userid, **kw):
        request.session.invalidate()  # a fresh session on sign-in: no session fixation
        request.session["operator_id"] = userid
        return []

    def forget(self, request, **kw):
        request.session.invalidate()
        return []
