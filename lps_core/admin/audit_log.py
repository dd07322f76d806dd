"""The audit log screen: search by who, action, target and date range, newest first, in pages;
each entry with its action's human name and the fields it changed (before → after), as the audit
service stored them: personal data already masked, secrets never there. The same search exports
to CSV. An operator scoped to some outlets sees only the entries of those outlets."""
import csv
import io
from datetime import datetime, time, timedelta

from pyramid.renderers import render_to_response
from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy import func, select

from lps_core.admin.forms import dgettext
from lps_core.audit.actions import ACTIONS, action_name, changed_fields, changes_text, field_name, shown_value
from lps_core.audit.models import AuditEntry
from lps_core.audit.services import audit_conditions
from lps_core.operators.permissions import Permission
from lps_core.timeutil import as_utc, utcnow
from lps_core.web.lists import paginate

TEMPLATE = "lps_core.admin:templates/audit.pt"
SEARCH_FIELDS = ("actor", "action", "target_type", "target_id", "since", "until")
MAX_EXPORT_ROWS = 100_000
EXPORT_BATCH = 1_000
# A cell that a spreadsheet would read as a formula is written with a leading apostrophe.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _search(request):
    """The search form's values, the query's conditions, and the errors beside the fields."""
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
    return search, conditions, errors


@view_config(route_name="audit", renderer=TEMPLATE, permission=Permission.AUDIT_VIEW)
def audit_log(request, errors=None):
    search, conditions, search_errors = _search(request)
    errors = {**search_errors, **(errors or {})}
    page = paginate(request.dbsession, request, select(AuditEntry).where(*conditions), {"at": AuditEntry.id},
                    "at", descending=True, params=search)
    if errors:
        request.response.status = 400
    translate = request.localizer.translate
    return {
        "page": page, "search": search, "errors": errors,
        "actions": _action_choices(translate, search["action"]),
        "export_url": request.route_path("audit", _query={**{k: v for k, v in search.items() if v}, "format": "csv"}),
        "action_name": action_name, "changes": changed_fields, "field_name": field_name,
        "shown": lambda value: shown_value(value, translate),
    }


@view_config(route_name="audit", request_param="format=csv", permission=Permission.AUDIT_VIEW)
def audit_log_csv(request):
    """The whole filtered list (not just one page) as CSV, newest first, UTF-8 with a byte-order
    mark so that spreadsheets open Chinese text right."""
    _, conditions, errors = _search(request)
    db = request.dbsession
    if not errors:
        total = db.scalar(select(func.count()).select_from(AuditEntry).where(*conditions))
        if total > MAX_EXPORT_ROWS:
            errors["export"] = dgettext("lps_config", "Too many entries to export (${total}, at most ${limit}): choose a shorter period.",
                                        {"total": total, "limit": MAX_EXPORT_ROWS})
    if errors:
        page = render_to_response(TEMPLATE, audit_log(request, errors), request=request)
        page.status = 400
        return page
    translate = request.localizer.translate
    timezone = request.registry["lps.programme"].timezone
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([translate(title) for title in CSV_COLUMNS])
    entries = db.execute(select(AuditEntry).where(*conditions).order_by(AuditEntry.id.desc())
                         .execution_options(yield_per=EXPORT_BATCH)).scalars()
    for entry in entries:
        writer.writerow([_cell(value) for value in (
            as_utc(entry.at).astimezone(timezone).isoformat(sep=" ", timespec="seconds"),
            entry.actor_name, entry.actor_kind, entry.address or "",
            translate(action_name(entry.action, entry.after)), entry.action,
            " ".join(str(part) for part in (entry.target_type, entry.target_id) if part is not None),
            changes_text(entry.before, entry.after, translate),
        )])
    day = utcnow().astimezone(timezone).strftime("%Y%m%d")
    response = Response(out.getvalue().encode("utf-8"), content_type="text/csv", charset="utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="audit-log-{day}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


CSV_COLUMNS = (
    dgettext("lps_config", "Time"), dgettext("lps_config", "Who"), dgettext("lps_config", "Kind of actor"),
    dgettext("lps_config", "Address"), dgettext("lps_config", "Action"), dgettext("lps_config", "Action code"),
    dgettext("lps_config", "Target"), dgettext("lps_config", "Changes"),
)


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _action_choices(translate, current) -> list[tuple[str, str]]:
    """(code, human name) of every known action, by name; a searched code not among them is kept."""
    choices = sorted(((code, translate(name)) for code, name in ACTIONS.items()), key=lambda choice: choice[1])
    if current and current not in ACTIONS:
        choices.insert(0, (current, current))
    return choices


def _day(value, timezone, errors, name):
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        errors[name] = dgettext("lps_config", "must be a date such as 2026-05-01")
        return None
    return datetime.combine(day, time.min, tzinfo=timezone)
