"""What staff and API clients see of the components and their switches: each component with its
origin, default and settings schema; each scope's row of one component; its state at each outlet;
and finding the scope a change names (the programme, a property or an outlet, by code or id)."""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from lps_core.errors import NotFound, Unprocessable
from lps_core.outlets.models import Outlet, Property
from lps_core.plugins.manager import SWITCHED_KINDS
from lps_core.plugins.switches import SwitchState, secret_fields, settings_schema_of, shown_settings, switches_of


@dataclass(frozen=True)
class ScopeRow:
    """One scope of a component's switches; `enabled` None and `settings` None where no row is kept."""

    scope: str  # programme, property or outlet
    scope_id: int
    code: str | None  # the property's or outlet's code
    name: str | None
    enabled: bool | None
    settings: dict | None  # secret fields left out
    updated_at: datetime | None
    updated_by: str | None


@dataclass(frozen=True)
class OutletState:
    outlet: Outlet
    property_code: str
    state: SwitchState


@dataclass(frozen=True)
class Scope:
    """The place a switch is for: scope_id 0 for the programme."""

    scope: str
    scope_id: int
    code: str | None = None
    outlet_id: int | None = None  # the outlet's id, for the audit log's outlet


def label_of(component) -> str:
    return str(getattr(component.obj, "label", None) or component.name)


def describe(component) -> dict:
    """A component as GET /api/v1/plugins answers it."""
    switched = component.kind in SWITCHED_KINDS
    schema = settings_schema_of(component.obj)
    return {
        "kind": component.kind, "name": component.name, "label": label_of(component),
        "plugin": component.plugin, "distribution": component.distribution,
        "origin": "core" if component.from_core else "third_party", "switched": switched,
        "enabled_by_default": component.from_core if switched else None,
        "settings_schema": schema.model_json_schema() if schema is not None else None,
        "secret_settings": sorted(secret_fields(schema)),
    }


def components_by_kind(plugins) -> dict:
    """{kind: [Component, ...] by name}, every kind that has a component."""
    return {kind: [found[name] for name in sorted(found)]
            for kind, found in sorted(plugins.components.items()) if found}


def scope_rows(db, component, *, outlet_ids=None, property_ids=None) -> list[ScopeRow]:
    """The programme's row, then each property's and each outlet's (by code), stored or not; only
    the given outlets and properties when they are given (a key's or an operator's reach)."""
    schema = settings_schema_of(component.obj)
    stored = {(row.scope, row.scope_id): row for row in switches_of(db, component.kind, component.name)}
    properties = select(Property.id, Property.code, Property.name).order_by(Property.code)
    outlets = select(Outlet.id, Outlet.code, Outlet.name).order_by(Outlet.code)
    if property_ids is not None:
        properties = properties.where(Property.id.in_(sorted(property_ids)))
    if outlet_ids is not None:
        outlets = outlets.where(Outlet.id.in_(sorted(outlet_ids)))
    places = [("programme", 0, None, None)]
    places += [("property", *place) for place in db.execute(properties)]
    places += [("outlet", *place) for place in db.execute(outlets)]
    rows = []
    for scope, scope_id, code, name in places:
        row = stored.get((scope, scope_id))
        rows.append(ScopeRow(scope, scope_id, code, name, row.enabled if row else None,
                             shown_settings(schema, row.settings) if row else None,
                             row.updated_at if row else None, row.updated_by if row else None))
    return rows


def outlet_states(db, plugins, component, *, outlet_ids=None) -> list[OutletState]:
    """The component's state at each outlet (the given ones), by code."""
    query = select(Outlet, Property.code).join(Property, Property.id == Outlet.property_id).order_by(Outlet.code)
    if outlet_ids is not None:
        query = query.where(Outlet.id.in_(sorted(outlet_ids)))
    outlets = db.execute(query).all()
    states = plugins.switches.states(db, component.kind, component.name, [outlet.id for outlet, _ in outlets])
    return [OutletState(outlet, property_code, states[outlet.id]) for outlet, property_code in outlets]


def find_scope(db, scope, *, outlet_code=None, property_code=None, scope_id=None, outlet_ids=None) -> Scope:
    """The place a change names (its fields `outlet`, `property` and `scope_id`): nothing for the
    programme; a property by its code or `scope_id`; an outlet by its code or `scope_id`, looked up
    among `outlet_ids` when given (so another outlet is not found, exactly like an unknown one). A
    field that does not belong to the scope, or two that name the place twice, is a 422 naming it;
    an unknown place a 404."""
    given = {"outlet": outlet_code, "property": property_code, "scope_id": scope_id}
    wanted = {"programme": (), "property": ("property", "scope_id"), "outlet": ("outlet", "scope_id")}[scope]
    for field, value in given.items():
        if value is not None and field not in wanted:
            raise Unprocessable(f"{field} does not belong to a {scope} switch",
                                {field: f"not used for a {scope} switch"})
    if scope == "programme":
        return Scope("programme", 0)
    code_field = wanted[0]
    if given[code_field] is not None and scope_id is not None:
        raise Unprocessable(f"give {code_field} or scope_id, not both", {"scope_id": f"give {code_field} or scope_id"})
    if given[code_field] is None and scope_id is None:
        raise Unprocessable(f"a {scope} switch needs {code_field} (or scope_id)", {code_field: "is required"})
    model = Outlet if scope == "outlet" else Property
    condition = model.code == given[code_field] if scope_id is None else model.id == scope_id
    query = select(model.id, model.code).where(condition)
    if scope == "outlet" and outlet_ids is not None:
        query = query.where(Outlet.id.in_(sorted(outlet_ids)))
    found = db.execute(query).one_or_none()
    if found is None:
        field, value = (code_field, given[code_field]) if scope_id is None else ("scope_id", scope_id)
        raise NotFound(f"no {scope} {value!r}", {field: f"no such {scope}"})
    return Scope(scope, found.id, found.code, found.id if scope == "outlet" else None)


def switch_target(component, place) -> str:
    """An audit entry's target: tender/cash@outlet:REST, tender/cash@programme."""
    where = place.scope if place.code is None else f"{place.scope}:{place.code}"
    return f"{component.kind}/{component.name}@{where}"
