"""What the configuration screens share: reading form fields, answering a form (done, invalid),
and the outlet checks of settings. The audit, flash and translation helpers of every screen are in
lps_core.screens.shared."""
import json
from datetime import datetime

from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound, HTTPSeeOther
from sqlalchemy import select

from lps_core.errors import ValidationFailed
from lps_core.outlets.models import Outlet
from lps_core.screens.shared import dgettext, flash
from lps_core.timeutil import as_utc
from lps_core.validation import check_depth


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


def done(request, message, route, **kw):
    """POST-redirect-GET with a flash message, translated now because flashes are kept as plain text."""
    flash(request, message)
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
