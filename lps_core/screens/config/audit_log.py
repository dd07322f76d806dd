"""The audit log screen: search by who, action, target and date range, newest first, in pages;
each entry with its action's human name and the fields it changed (before → after), as the audit
service stored them: personal data already masked, secrets never there. The same search exports
to CSV. An operator scoped to some outlets sees only the entries of those outlets."""
import re
from datetime import date, datetime, time, timedelta

from pyramid.renderers import render_to_response
from pyramid.view import view_config
from sqlalchemy import func, select

from lps_core.audit.actions import (
    ACTIONS,
    action_name,
    changed_fields,
    field_name,
    shown_value,
    target_name,
    value_kind,
)
from lps_core.audit.models import AuditEntry
from lps_core.audit.services import audit_conditions
from lps_core.components import ILabels
from lps_core.exports import Column, Table, download, to_csv
from lps_core.operators.permissions import Permission
from lps_core.screens.shared import dgettext
from lps_core.screens.shell.lists import paginate
from lps_core.timeutil import as_utc, utcnow

TEMPLATE = "lps_core.screens.config:templates/audit.pt"
SEARCH_FIELDS = ("actor", "action", "target_type", "target_id", "since", "until")
MAX_EXPORT_ROWS = 100_000
EXPORT_BATCH = 1_000
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _search(request):
    """The search form's values, the query's conditions, and the errors beside the fields."""
    search = {name: request.params.get(name, "").strip() for name in SEARCH_FIELDS}
    errors = {}
    timezone = request.programme.timezone
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
        "action_name": action_name, "target_name": target_name, "changes": lambda entry: changes(request, entry),
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
    timezone = request.programme.timezone
    entries = db.execute(select(AuditEntry).where(*conditions).order_by(AuditEntry.id.desc())
                         .execution_options(yield_per=EXPORT_BATCH)).scalars()
    # A generator: the entries are written as they are read, up to MAX_EXPORT_ROWS of them.
    rows = (_export_row(request, entry, timezone) for entry in entries)
    table = Table("Audit log", [Column(key, translate(title)) for key, title in CSV_COLUMNS], rows)
    day = utcnow().astimezone(timezone).strftime("%Y%m%d")
    response = download(to_csv([table]), f"audit-log-{day}", "csv")
    response.headers["Cache-Control"] = "no-store"
    return response


CSV_COLUMNS = (
    ("at", dgettext("lps_config", "Time")), ("who", dgettext("lps_config", "Who")),
    ("actor_kind", dgettext("lps_config", "Kind of actor")), ("address", dgettext("lps_config", "Address")),
    ("action", dgettext("lps_config", "Action")), ("action_code", dgettext("lps_config", "Action code")),
    ("target", dgettext("lps_config", "Target")), ("changes", dgettext("lps_config", "Changes")),
)


def _export_row(request, entry, timezone) -> dict:
    """An entry as the export's columns give it: names in the reader's language, times in ISO 8601."""
    translate = request.localizer.translate
    return {
        "at": as_utc(entry.at).astimezone(timezone).isoformat(sep=" ", timespec="seconds"),
        "who": entry.actor_name, "actor_kind": entry.actor_kind, "address": entry.address,
        "action": translate(action_name(entry.action, entry.after)), "action_code": entry.action,
        "target": " ".join(part for part in (translate(target_name(entry.target_type)), entry.target_id or "") if part),
        "changes": "; ".join(name + ": " + (new if old is None else f"{old} → {new}") if name else f"{old} → {new}"
                             for name, old, new in changes(request, entry, iso_times=True)),
    }


def changes(request, entry, iso_times=False) -> list[tuple]:
    """(field's name, before, after) as text, in the reader's language: codes by their labels, times
    and dates in the programme's time zone as the page's locale writes them (ISO 8601 for a file).
    `before` is None for a field that had no value before: the change shows the new value alone."""
    translate, labels = request.localizer.translate, request.registry.getUtility(ILabels)
    shown = []
    for name, old, new in changed_fields(entry.before, entry.after):
        kind = value_kind(entry.action, entry.target_type, name)

        def name_code(value, kind=kind):
            if kind is not None and isinstance(value, str) and kind in labels.table:
                return translate(labels.get(kind, value))
            return str(value) if iso_times else _local_time(request, value)

        shown.append((translate(field_name(name)) if name else "",
                      None if old is None else shown_value(old, name_code, translate),
                      shown_value(new, name_code, translate)))
    return shown


def _local_time(request, value) -> str:
    """A stored ISO 8601 time or date as the page's locale writes it; any other value as it is."""
    text = str(value)
    try:
        if ISO_TIME.match(text):
            return request.fmt.datetime(datetime.fromisoformat(text))
        if ISO_DATE.fullmatch(text):
            return request.fmt.date(date.fromisoformat(text))
    except ValueError:
        pass
    return text


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
