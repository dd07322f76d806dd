"""Plugins API views (scope plugins.manage, or plugins.programme for every switch): the
components, a component's switches, and setting one. Thin: read the input through the operation's
schema, call the services, shape JSON. A change is recorded in the audit log with its before and after."""
from pyramid.view import view_config
from sqlalchemy import select

from lps_core.audit.api_writes import api_actor
from lps_core.audit.services import record
from lps_core.errors import Forbidden, NotFound
from lps_core.http.document import answer, problems
from lps_core.http.operations import Operation, read_body, read_path
from lps_core.http.request import authenticate
from lps_core.outlets.models import Outlet
from lps_core.plugins.overview import (
    components_by_kind,
    describe,
    find_scope,
    outlet_states,
    scope_rows,
    switch_target,
)
from lps_core.plugins.schemas import ComponentPath, SwitchIn, SwitchPath
from lps_core.plugins.switches import set_switch, settings_schema_of, shown_settings
from lps_core.timeutil import isoformat


def includeme(config):
    config.add_route("api.plugins", "/api/v1/plugins")
    config.add_route("api.plugin_switches", "/api/v1/plugins/{kind}/{name}/switches")
    config.add_route("api.plugin_switch", "/api/v1/plugins/{kind}/{name}/switches/{scope}")
    config.add_api_operations(OPERATIONS, SCHEMAS)
    config.scan(__name__)


SCOPE = "plugins.manage"
PROGRAMME_SCOPE = "plugins.programme"
REACH = (f"A key with `{PROGRAMME_SCOPE}` reaches every switch. A key with `{SCOPE}` only reaches its own "
         "outlet's: it sees the programme's, its property's and its outlet's rows and its outlet's state, and "
         "changes its outlet's switch; another outlet answers 404, like an unknown one, and the programme's "
         "and properties' switches 403.")
TIMESTAMP = {"type": "string", "format": "date-time"}

OPERATIONS = [
    Operation("api.plugins", "get", "listPlugins", "Every component the installed plugins provide, by kind",
              {"200": answer("The components", "PluginList"), **problems(401, 403)}, scope=SCOPE,
              description=f"Also allowed with `{PROGRAMME_SCOPE}`. Tenders, promotion kinds, exchange partners and "
                          "channels are switched per outlet (`switched`); LPS's own are on by default, a third "
                          "party's off until switched on."),
    Operation("api.plugin_switches", "get", "getPluginSwitches",
              "A component's switch at each scope, and its state at each outlet",
              {"200": answer("The switches", "PluginSwitches"), **problems(401, 403, 404)}, scope=SCOPE,
              path=ComponentPath, description=REACH),
    Operation("api.plugin_switch", "put", "setPluginSwitch", "Set a component's switch and settings at one scope",
              {"200": answer("The component's switches after the change", "PluginSwitches"),
               **problems(401, 403, 404, 413, 422)},
              scope=SCOPE, body=SwitchIn, path=SwitchPath,
              description="The narrowest switch wins: the outlet's, else its property's, else the programme's, "
                          "else the component's default. Settings the component's schema refuses, or a field "
                          "that does not belong to the scope (`outlet` for a property switch), answer 422 naming "
                          "it (`settings.<field>`); an unknown outlet or property 404. Secret settings "
                          "(`writeOnly`) are never answered; a change that leaves one out keeps it. " + REACH),
]

SCHEMAS = {
    "PluginComponent": {"type": "object", "properties": {
        "kind": {"type": "string", "example": "tender"},
        "name": {"type": "string", "example": "cash"},
        "label": {"type": "string"},
        "plugin": {"type": "string", "description": "The pluggy plugin that provides it"},
        "distribution": {"type": "string", "description": "The installed distribution; lps for LPS's own"},
        "origin": {"type": "string", "enum": ["core", "third_party"]},
        "switched": {"type": "boolean", "description": "Switched on or off per outlet"},
        "enabled_by_default": {"type": "boolean", "nullable": True,
                               "description": "Where no switch says otherwise; null when not switched"},
        "settings_schema": {"type": "object", "nullable": True,
                            "description": "The JSON Schema of its per-outlet settings; null: none"},
        "secret_settings": {"type": "array", "items": {"type": "string"},
                            "description": "Settings that are stored but never answered"},
    }},
    "PluginList": {"type": "object", "properties": {
        "kinds": {"type": "object", "additionalProperties": {
            "type": "array", "items": {"$ref": "#/components/schemas/PluginComponent"}},
            "description": "Components by kind (tender, promotion_kind, exchange, channel, formula, ...)"}}},
    "PluginSwitchRow": {"type": "object", "properties": {
        "scope": {"type": "string", "enum": ["programme", "property", "outlet"]},
        "scope_id": {"type": "integer", "description": "The property's or outlet's id; 0 for the programme"},
        "code": {"type": "string", "nullable": True, "description": "The property's or outlet's code"},
        "enabled": {"type": "boolean", "nullable": True, "description": "null: inherits the wider scope's"},
        "settings": {"type": "object", "nullable": True, "description": "null: the wider scope's apply"},
        "updated_at": {**TIMESTAMP, "nullable": True},
        "updated_by": {"type": "string", "nullable": True},
    }},
    "PluginOutletState": {"type": "object", "properties": {
        "outlet": {"type": "string"},
        "property": {"type": "string"},
        "enabled": {"type": "boolean"},
        "source": {"type": "string", "enum": ["outlet", "property", "programme", "default"],
                   "description": "The scope whose switch decides"},
        "settings": {"type": "object", "nullable": True,
                     "description": "The settings in force (secret ones left out); null: the component has none"},
    }},
    "PluginSwitches": {"type": "object", "properties": {
        "component": {"$ref": "#/components/schemas/PluginComponent"},
        "switches": {"type": "array", "items": {"$ref": "#/components/schemas/PluginSwitchRow"},
                     "description": "The programme, then each property and each outlet, by code"},
        "outlets": {"type": "array", "items": {"$ref": "#/components/schemas/PluginOutletState"}},
    }},
}


def _reach(request):
    """(the key's outlet, whether the key reaches every switch)."""
    try:
        return authenticate(request, PROGRAMME_SCOPE), True
    except Forbidden:
        return authenticate(request, SCOPE), False


def _component(request, path):
    component = request.plugins.component(path.kind, path.name)
    if component is None:
        raise NotFound(f"no plugin provides the {path.kind.replace('_', ' ')} {path.name!r}",
                       {"name": "no such component"})
    return component


def _switches_json(request, component, outlet, everywhere) -> dict:
    db = request.dbsession
    outlet_ids = property_ids = None
    if not everywhere:
        outlet_ids = [outlet.id]
        property_ids = [db.scalar(select(Outlet.property_id).where(Outlet.id == outlet.id))]
    schema = settings_schema_of(component.obj)
    rows = scope_rows(db, component, outlet_ids=outlet_ids, property_ids=property_ids)
    states = outlet_states(db, request.plugins, component, outlet_ids=outlet_ids)
    return {
        "component": describe(component),
        "switches": [{"scope": row.scope, "scope_id": row.scope_id, "code": row.code, "enabled": row.enabled,
                      "settings": row.settings, "updated_at": isoformat(row.updated_at) if row.updated_at else None,
                      "updated_by": row.updated_by} for row in rows],
        "outlets": [{"outlet": item.outlet.code, "property": item.property_code, "enabled": item.state.enabled,
                     "source": item.state.source,
                     "settings": shown_settings(schema, item.state.settings.model_dump(mode="json"))
                     if item.state.settings is not None else None} for item in states],
    }


@view_config(route_name="api.plugins", request_method="GET", require_csrf=False, renderer="json")
def list_plugins(request):
    _reach(request)
    return {"kinds": {kind: [describe(component) for component in components]
                      for kind, components in components_by_kind(request.plugins).items()}}


@view_config(route_name="api.plugin_switches", request_method="GET", require_csrf=False, renderer="json")
def plugin_switches(request):
    outlet, everywhere = _reach(request)
    component = _component(request, read_path(request))
    return _switches_json(request, component, outlet, everywhere)


@view_config(route_name="api.plugin_switch", request_method="PUT", require_csrf=False, renderer="json")
def set_plugin_switch(request):
    outlet, everywhere = _reach(request)
    path = read_path(request)
    component = _component(request, path)
    body = read_body(request)
    if not everywhere and path.scope != "outlet":
        raise Forbidden(f"the {path.scope}'s switch needs scope {PROGRAMME_SCOPE}",
                        {"Authorization": f"lacks scope {PROGRAMME_SCOPE}"})
    db = request.dbsession
    place = find_scope(db, path.scope, outlet_code=body.outlet, property_code=body.property, scope_id=body.scope_id,
                       outlet_ids=None if everywhere else [outlet.id])
    actor, key_outlet_id = api_actor(request)
    change = set_switch(db, request.plugins, kind=component.kind, name=component.name, scope=place.scope,
                        scope_id=place.scope_id, enabled=body.enabled, actor=actor.name,
                        **({"settings": body.settings} if "settings" in body.model_fields_set else {}))
    record(db, actor=actor, action="plugin.switch", target=("plugin_switch", switch_target(component, place)),
           before=change.before, after=change.after, address=request.client_addr,
           outlet_id=place.outlet_id if place.outlet_id is not None else key_outlet_id)
    return _switches_json(request, component, outlet, everywhere)

