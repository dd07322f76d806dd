"""What every staff screen does the same way: name the signed-in operator in the audit log, audit
a write, flash a translated message, list the operator's outlets and read the outlet a request
names, write a text of a screen's own translation domain, and put a schema's errors beside the
fields of a form."""
import re

from pyramid.httpexceptions import HTTPNotFound
from pyramid.i18n import TranslationString
from sqlalchemy import select

from lps_core.audit.services import Actor, record
from lps_core.errors import LpsError, ValidationFailed
from lps_core.members.schemas import OutletForm
from lps_core.outlets.models import Outlet
from lps_core.screens.shell.security import require_outlet
from lps_core.validation import validate


def dgettext(domain, message, mapping=None) -> TranslationString:
    """A text of `domain` for a screen. Written out with its domain because the catalog extractor
    files a plain _() text in every domain's catalog, but a dgettext() text in its own domain's only."""
    return TranslationString(message, domain=domain, mapping=mapping)


def actor(request) -> Actor:
    return Actor.operator(request.identity.id, request.identity.username)


def audit(request, action, target, *, before=None, after=None, outlet_id=None):
    """Record a write of the signed-in operator in the audit log, in the request's transaction."""
    record(request.dbsession, actor=actor(request), action=action, target=target, before=before, after=after,
           address=request.client_addr, outlet_id=outlet_id)


def flash(request, message):
    """Flashes are kept as plain text and the layout shows them in the `lps` domain, so a screen's
    message is translated now, in its own domain."""
    request.session.flash(request.localizer.translate(message))


def outlets_in_scope(request, *, inactive=False) -> list[Outlet]:
    """The outlets the signed-in operator works for, by code: the active ones, or every one with
    `inactive` (the configuration screens, which also show outlets that were closed)."""
    query = select(Outlet).order_by(Outlet.code)
    if not inactive:
        query = query.where(Outlet.active.is_(True))
    identity = request.identity
    if not identity.all_outlets:
        query = query.where(Outlet.id.in_(sorted(identity.outlet_ids)))
    return list(request.dbsession.scalars(query))


def covers_outlets(request, codes) -> bool:
    """Whether the operator works for every outlet of `codes` (outlets closed since included); an
    operator of some outlets covers no empty list, which means "every outlet"."""
    if request.identity.all_outlets:
        return True
    return bool(codes) and set(codes) <= {outlet.code for outlet in outlets_in_scope(request, inactive=True)}


def chosen_outlet(request, code=None, *, field=None, required=None, message=None) -> Outlet | None:
    """The outlet a request names, checked against the operator's scope (403 outside it).

    A page (`field` None) reads ?outlet=CODE (or a form's `outlet`): an unknown, closed or malformed
    code is 404, and without one it is the operator's only outlet, or None while they must still pick.

    A form passes `code` as its schema read it and the `field` to blame: an unknown code, or none
    when one is `required`, is a 422 beside that field with `message`. `required` None means required
    unless the operator works for every outlet (then no outlet means head office)."""
    if field is None:
        return _outlet_of_page(request)
    if not code:
        if required or (required is None and not request.identity.all_outlets):
            raise ValidationFailed("choose an outlet", {field: message})
        return None
    outlet = request.dbsession.scalar(select(Outlet).where(Outlet.code == code))
    if outlet is None:
        raise ValidationFailed("no such outlet", {field: message})
    require_outlet(request, outlet.id)
    return outlet


def _outlet_of_page(request) -> Outlet | None:
    code = request.params.get("outlet")
    if not code:
        scoped = outlets_in_scope(request)
        return scoped[0] if len(scoped) == 1 else None
    try:
        code = validate(OutletForm, {"outlet": code}).outlet  # NUL or a code of any length names no outlet
    except LpsError:
        raise HTTPNotFound("no such outlet") from None
    outlet = request.dbsession.scalar(select(Outlet).where(Outlet.code == code, Outlet.active.is_(True)))
    if outlet is None:
        raise HTTPNotFound("no such outlet")
    require_outlet(request, outlet.id)
    return outlet


def form_errors(fields: dict) -> dict:
    """A schema's errors by form field: `bands[0].from` and `weekdays[1]` are told beside `bands` and
    `weekdays`, the part inside named in the message."""
    errors = {}
    for name, message in fields.items():
        top = re.split(r"[.\[]", name, maxsplit=1)[0]
        inside = name[len(top):].lstrip(".")
        errors.setdefault(top, f"{inside}: {message}" if inside else message)
    return errors
