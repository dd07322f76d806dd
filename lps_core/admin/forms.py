"""What the configuration screens share: reading form fields, the audit actor, flashing a
translated message, and the outlets an operator may see."""
import json
import re
from datetime import datetime

from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound, HTTPSeeOther
from pyramid.i18n import TranslationString
from sqlalchemy import select

from lps_core.audit.services import Actor, record
from lps_core.errors import ValidationFailed
from lps_core.outlets.models import Outlet
from lps_core.timeutil import as_utc
from lps_core.validation import check_depth



def dgettext(domain, message, mapping=None) -> TranslationString:
    """A text of `domain` for a screen. Written out with its domain (always "lps_config" here) because
    the catalog extractor files a plain _() text in every domain's catalog, but a dgettext() text in
    its own domain's only."""
    return TranslationString(message, domain=domain, mapping=mapping)


def text(request, name) -> str:
    value = request.POST.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def optional(request, name) -> str | None:
    return text(request, name) or None


def whole_or_text(value):
    """A form number as an int when it is one, else the text itself, so the service names the field."""
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        return value


def code_list(value) -> list[str] | None:
    """"a, b c" -> ["a", "b", "c"]; empty -> None (the field's "all")."""
    codes = [part for part in value.replace(",", " ").split() if part]
    return codes or None


def actor(request) -> Actor:
    return Actor.operator(request.identity.id, request.identity.username)


def audit(request, action, target, *, before=None, after=None, outlet_id=None):
    """Record a write of the signed-in operator in the audit log, in the request's transaction."""
    record(request.dbsession, actor=actor(request), action=action, target=target, before=before, after=after,
           address=request.client_addr, outlet_id=outlet_id)


def done(request, message, route, **kw):
    """POST-redirect-GET with a flash message, translated now because flashes are kept as plain text."""
    request.session.flash(request.localizer.translate(message))
    return HTTPSeeOther(request.route_url(route, **kw))


def invalid(request, errors: dict) -> dict:
    """The form's errors, answered with 400 so the re-filled form shows them beside the fields. The
    transaction is doomed: nothing a service wrote before it refused is kept."""
    request.response.status = 400
    request.tm.doom()
    return errors


def require_all_outlets(request):
    """Settings of the whole programme (tiers, card types, new outlets) are for HQ operators only."""
    if not request.identity.all_outlets:
        raise HTTPForbidden("only an operator of every outlet may change this")


def outlet_or_404(request, code) -> Outlet:
    outlet = request.dbsession.scalar(select(Outlet).where(Outlet.code == code))
    if outlet is None:
        raise HTTPNotFound()
    return outlet


def visible_outlets(request) -> list[Outlet]:
    """The outlets in the operator's scope, by code."""
    query = select(Outlet).order_by(Outlet.code)
    if not request.identity.all_outlets:
        query = query.where(Outlet.id.in_(sorted(request.identity.outlet_ids)))
    return list(request.dbsession.scalars(query))


ROLE_LABELS = {
    "administrator": dgettext("lps_config", "Administrator"), "outlet_manager": dgettext("lps_config", "Outlet manager"), "cashier": dgettext("lps_config", "Cashier"),
    "front_desk": dgettext("lps_config", "Front desk"), "marketing": dgettext("lps_config", "Marketing"), "finance_auditor": dgettext("lps_config", "Finance auditor"),
    "hq_analyst": dgettext("lps_config", "HQ analyst"),
}


def role_label(role):
    return ROLE_LABELS.get(role, role)


def json_field(request, name, errors, default):
    """A form field holding JSON, parsed as the API parses a body (its depth checked first), for the
    same schema to check; a bad one goes into `errors`."""
    raw = text(request, name)
    if not raw:
        return default
    try:
        check_depth(raw.encode("utf-8", "surrogatepass"))
        return json.loads(raw)
    except ValidationFailed as exc:
        errors[name] = exc.fields["body"]
    except ValueError:
        errors[name] = dgettext("lps_config", "must be valid JSON")
    return default


def form_errors(fields: dict) -> dict:
    """A schema's errors by form field: `bands[0].from` and `weekdays[1]` are told beside `bands` and
    `weekdays`, the part inside named in the message."""
    errors = {}
    for name, message in fields.items():
        top = re.split(r"[.\[]", name, maxsplit=1)[0]
        inside = name[len(top):].lstrip(".")
        errors.setdefault(top, f"{inside}: {message}" if inside else message)
    return errors


def shown_json(value) -> str:
    """A JSON value as the text of a form field."""
    return "" if value in (None, {}, []) else json.dumps(value, ensure_ascii=False, default=str)


def local_input(moment, timezone) -> str:
    """A stored UTC time as the value of a datetime-local field, in the programme's time zone."""
    return "" if moment is None else as_utc(moment).astimezone(timezone).strftime("%Y-%m-%dT%H:%M")


def from_local_input(value, timezone):
    """A datetime-local field (programme time zone) as ISO 8601 with its offset; text the services
    reject as it is when it is not a time."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone)
    return moment.isoformat()
