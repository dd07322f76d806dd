"""Plugins: every component the installed plugins provide, grouped by kind with its origin; for a
switched one (tender, promotion kind, exchange partner, channel), its switch for the programme, each
property and each outlet with the state in force; and a form for one scope's switch and settings,
whose fields come from the component's settings schema.

An operator of every outlet may change any switch; an operator scoped to some outlets sees and
changes only their outlets' switches (another outlet is not found, like an unknown one), as an API
key with plugins.manage only reaches its own outlet's."""
import json

from pyramid.httpexceptions import HTTPNotFound
from pyramid.i18n import TranslationString
from pyramid.view import view_config
from sqlalchemy import select

from lps_core.components import ILabels
from lps_core.errors import LpsError
from lps_core.operators.permissions import Permission
from lps_core.outlets.models import Outlet
from lps_core.plugins.manager import SWITCHED_KINDS
from lps_core.plugins.models import SCOPES
from lps_core.plugins.overview import components_by_kind, find_scope, label_of, outlet_states, scope_rows, switch_target
from lps_core.plugins.switches import UNCHANGED, secret_fields, set_switch, settings_schema_of, switches_of
from lps_core.screens.config.forms import done, invalid, require_all_outlets, text
from lps_core.screens.shared import audit, dgettext

KIND_LABELS = {
    "tender": dgettext("lps_config", "Tenders"),
    "promotion_kind": dgettext("lps_config", "Promotion kinds"),
    "exchange": dgettext("lps_config", "Exchange partners"),
    "channel": dgettext("lps_config", "Notification channels"),
    "formula": dgettext("lps_config", "Earning formulas"),
    "tier_model": dgettext("lps_config", "Tier models"),
    "card_reader": dgettext("lps_config", "Card readers"),
    "pin_pad": dgettext("lps_config", "PIN pads"),
}
SCOPE_LABELS = {
    "programme": dgettext("lps_config", "Whole programme"),
    "property": dgettext("lps_config", "Property"),
    "outlet": dgettext("lps_config", "Outlet"),
    "default": dgettext("lps_config", "Default"),
}
# The label tables (lps_core.labels) that name components of a kind, in the reader's language.
LABEL_TABLES = {"tender": "tender", "promotion_kind": "promotion kind", "formula": "formula"}
SWITCH_CHOICES = {"inherit": None, "on": True, "off": False}
SETTING_FIELD = "setting."  # the form's name of a settings field: setting.<field>


@view_config(route_name="config.plugins", renderer="lps_core.screens.config:templates/plugins.pt",
             permission=Permission.CONFIG_MANAGE)
def list_plugins(request):
    plugins = request.plugins
    return {"kinds": components_by_kind(plugins), "kind_labels": KIND_LABELS, "label_of": _labeller(request),
            "plugin_names": plugins.plugin_names(), "switched_kinds": SWITCHED_KINDS,
            "switched": {(row.component_kind, row.component_name) for row in switches_of(request.dbsession)}}


@view_config(route_name="config.plugin", renderer="lps_core.screens.config:templates/plugin.pt",
             permission=Permission.CONFIG_MANAGE)
def plugin_switches(request):
    """One component: its switch at each scope the operator reaches, and its state at each outlet."""
    component = _switched_component(request)
    db = request.dbsession
    outlet_ids, property_ids = _reach(request)
    rows = scope_rows(db, component, outlet_ids=outlet_ids, property_ids=property_ids)
    return {"component": component, "label_of": _labeller(request), "kind_labels": KIND_LABELS,
            "scope_labels": SCOPE_LABELS, "rows": rows, "states": {item.outlet.id: item for item in
                                     outlet_states(db, request.plugins, component, outlet_ids=outlet_ids)},
            "schema": settings_schema_of(component.obj), "everywhere": outlet_ids is None}


@view_config(route_name="config.plugin_switch", renderer="lps_core.screens.config:templates/plugin_switch.pt",
             permission=Permission.CONFIG_MANAGE)
def edit_switch(request):
    """One scope's switch (on, off, or as the wider scope says) and its settings."""
    component = _switched_component(request)
    scope = request.matchdict["scope"]
    if scope not in SCOPES:
        raise HTTPNotFound()
    if scope != "outlet":
        require_all_outlets(request)
    db = request.dbsession
    code = request.params.get("code") or None
    outlet_ids, _ = _reach(request)
    try:
        named = {"programme": {}, "property": {"property_code": code}, "outlet": {"outlet_code": code}}[scope]
        place = find_scope(db, scope, **named, outlet_ids=outlet_ids)
    except LpsError:
        raise HTTPNotFound() from None
    schema = settings_schema_of(component.obj)
    fields = _setting_fields(schema)
    secrets = secret_fields(schema)
    stored = next((row for row in switches_of(db, component.kind, component.name)
                   if (row.scope, row.scope_id) == (place.scope, place.scope_id)), None)
    form = {"enabled": {True: "on", False: "off"}.get(stored.enabled if stored else None, "inherit"),
            "inherit_settings": not (stored and stored.settings),
            "settings": {name: _shown(stored.settings.get(name)) if stored and stored.settings and name not in secrets
                         else "" for name in fields}}
    errors = {}
    if request.method == "POST":
        form = {"enabled": text(request, "enabled"), "inherit_settings": bool(request.POST.get("inherit_settings")),
                "settings": {name: request.POST.get(SETTING_FIELD + name, "") for name in fields}}
        if form["enabled"] not in SWITCH_CHOICES:
            errors["enabled"] = dgettext("lps_config", "choose on, off or as the wider scope says")
        settings = _posted_settings(form, fields, schema)
        if not errors:
            try:
                change = set_switch(db, request.plugins, kind=component.kind, name=component.name, scope=place.scope,
                                    scope_id=place.scope_id, enabled=SWITCH_CHOICES[form["enabled"]],
                                    settings=settings, actor=request.identity.username)
            except LpsError as exc:
                errors = _errors_by_field(exc.fields)
            else:
                audit(request, "plugin.switch", ("plugin_switch", switch_target(component, place)),
                      before=change.before, after=change.after, outlet_id=place.outlet_id)
                return done(request, dgettext("lps_config", "Switch saved."), "config.plugin",
                            kind=component.kind, name=component.name)
        invalid(request, errors)
    return {"component": component, "label_of": _labeller(request), "kind_labels": KIND_LABELS,
            "scope_labels": SCOPE_LABELS, "place": place, "fields": fields, "secrets": secrets, "form": form,
            "errors": errors,
            "stored_secrets": {name for name in secrets if stored and (stored.settings or {}).get(name)}}


def _labeller(request):
    """label_of(component) for the page: the label table's name in the reader's language where
    there is one, else the label the component gives itself."""
    labels = request.registry.getUtility(ILabels)

    def label(component):
        table = LABEL_TABLES.get(component.kind)
        name = labels.get(table, component.name) if table else None
        return request.localizer.translate(name) if isinstance(name, TranslationString) else label_of(component)
    return label


def _switched_component(request):
    component = request.plugins.component(request.matchdict["kind"], request.matchdict["name"])
    if component is None or component.kind not in SWITCHED_KINDS:
        raise HTTPNotFound()
    return component


def _posted_settings(form, fields, schema):
    """The settings the form gives: none for a component without a schema (left as they are), None
    to take the wider scope's, else the filled-in fields (a blank one takes the schema's default; a
    blank secret one keeps what is stored)."""
    if schema is None:
        return UNCHANGED
    if form["inherit_settings"]:
        return None
    return {name: _typed(value, fields[name]) for name, value in form["settings"].items() if value.strip()}


def _reach(request):
    """(outlet ids, property ids) the operator works for; (None, None) for every outlet."""
    identity = request.identity
    if identity.all_outlets:
        return None, None
    outlet_ids = sorted(identity.outlet_ids)
    property_ids = set(request.dbsession.scalars(select(Outlet.property_id).where(Outlet.id.in_(outlet_ids))))
    return outlet_ids, property_ids


def _setting_fields(schema) -> dict:
    """{field: its JSON schema} of a settings model, in its order; {} for none."""
    if schema is None:
        return {}
    return dict(schema.model_json_schema().get("properties", {}))


def _json_types(field) -> set:
    types = {field.get("type")} | {option.get("type") for option in field.get("anyOf", ())}
    return {kind for kind in types if kind}


def _typed(value, field):
    """A form's text as the JSON value the field's schema takes: a number, true or false, a list or an
    object where the schema wants one and not text. Text that does not convert goes as it is, so the
    schema names the field."""
    value = value.strip()
    types = _json_types(field)
    if not value or "string" in types:
        return value
    if "boolean" in types and value.lower() in ("true", "false"):
        return value.lower() == "true"
    try:
        parsed = json.loads(value)
    except ValueError:
        return value
    return parsed if not isinstance(parsed, str) else value


def _shown(value) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _errors_by_field(fields) -> dict:
    """The service's errors by form field: settings.rate beside the rate field."""
    errors = {}
    for name, message in fields.items():
        inside = name.removeprefix("settings.")
        errors.setdefault(SETTING_FIELD + inside.split(".", 1)[0].split("[", 1)[0]
                          if inside != name else name, message)
    return errors
