"""The audit log screen: search by actor, action, target and date range, sorted by time, in pages,
each entry with its before and after values. An operator scoped to some outlets sees only the
entries of those outlets."""
import json
from datetime import datetime, time, timedelta

from pyramid.view import view_config
from sqlalchemy import select

from lps_core.admin.forms import dgettext
from lps_core.audit.models import AuditEntry
from lps_core.audit.services import audit_conditions
from lps_core.operators.permissions import Permission
from lps_core.web.lists import paginate

SEARCH_FIELDS = ("actor", "action", "target_type", "target_id", "since", "until")


@view_config(route_name="audit", renderer="lps_core.admin:templates/audit.pt", permission=Permission.AUDIT_VIEW)
def audit_log(request):
    search = {name: request.params.get(name, "").strip() for name in SEARCH_FIELDS}
    errors = {}
    timezone = request.registry["lps.programme"].timezone
    since = _day(search["since"], timezone, errors, "since")
    until = _day(search["until"], timezone, errors, "until")
    if until is not None:
        until += timedelta(days=1)  # the "until" day is included
    identity = request.identity
    conditions = audit_conditions(
        actor=search["actor"] or None, action=search["action"] or None, target_type=search["target_type"] or None,
        target_id=search["target_id"] or None, since=since, until=until,
        outlet_ids=None if identity.all_outlets else identity.outlet_ids)
    page = paginate(request.dbsession, request, select(AuditEntry).where(*conditions), {"at": AuditEntry.id},
                    "at", descending=True, params=search)
    if errors:
        request.response.status = 400
    return {"page": page, "search": search, "errors": errors, "shown": shown}


def shown(values) -> str:
    """Before/after values as compact JSON for the table (text is escaped by the template)."""
    return "" if values is None else json.dumps(values, ensure_ascii=False, sort_keys=True)


def _day(value, timezone, errors, name):
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        errors[name] = dgettext("lps_config", "must be a date such as 2026-05-01")
        return None
    return datetime.combine(day, time.min, tzinfo=timezone)
