"""Plugins API views (scope plugins.manage, or plugins.programme for every switch): the
components, a component's switches, and setting one. Thin: read the input through the operation's
schema, call the services, shape JSON. A change is recorded in the audit log with its before and after."""
from pyramid.view import view_config
from sqlalchemy import select

from lps_core.api.operations import read_body, read_path
from lps_core.api.request import authenticate
from lps_core.audit.api_writes import api_actor
from lps_core.audit.services import record
from lps_core.errors import Forbidden, NotFound
from lps_core.outlets.models import Outlet
from lps_core.plugins.openapi import PROGRAMME_SCOPE, SCOPE
from lps_core.plugins.overview import (
    components_by_kind, describe, find_scope, outlet_states, scope_rows, switch_target,
)
from lps_core.plugins.switches import set_switch, settings_schema_of, shown_settings
from lps_core.timeutil import isoformat


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

