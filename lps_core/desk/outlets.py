"""Which outlet a desk screen acts for: one of the signed-in operator's outlets, picked with
?outlet=CODE (or a form's `outlet` field) when the operator has more than one."""
from pyramid.httpexceptions import HTTPNotFound
from sqlalchemy import select

from lps_core.earning.services import OutletContext
from lps_core.errors import LpsError
from lps_core.members.schemas import OutletForm
from lps_core.outlets.models import Outlet
from lps_core.validation import validate
from lps_core.web.security import require_outlet


def outlets_in_scope(request) -> list[Outlet]:
    query = select(Outlet).where(Outlet.active.is_(True)).order_by(Outlet.code)
    identity = request.identity
    if not identity.all_outlets:
        query = query.where(Outlet.id.in_(identity.outlet_ids or [-1]))
    return list(request.dbsession.scalars(query))


def chosen_outlet(request) -> Outlet | None:
    """The outlet named by the request (403 outside the operator's scope, 404 if unknown), else the
    operator's only outlet; None when the operator must still pick one."""
    code = request.params.get("outlet")
    if code:
        try:
            code = validate(OutletForm, {"outlet": code}).outlet  # NUL or a code of any length names no outlet
        except LpsError:
            raise HTTPNotFound("no such outlet") from None
        outlet = request.dbsession.scalar(select(Outlet).where(Outlet.code == code, Outlet.active.is_(True)))
        if outlet is None:
            raise HTTPNotFound("no such outlet")
        require_outlet(request, outlet.id)
        return outlet
    scoped = outlets_in_scope(request)
    return scoped[0] if len(scoped) == 1 else None


def context_of(outlet: Outlet) -> OutletContext:
    return OutletContext(outlet.id, outlet.code)
