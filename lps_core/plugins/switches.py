"""Which components are on at an outlet, and with what settings.

A tender, promotion kind, exchange partner or channel is on at an outlet by the narrowest switch
that says so: the outlet's own, else its property's, else the programme's, else its default (on for
LPS's own components, off for a third party's until staff switch it on). Its settings come the same
way from the narrowest scope that has settings, else the defaults of its settings schema.

Switches are read on every bill, so they are cached in-process for lps.rules.cache_seconds, like
the earning rules; a change made by this process takes effect at once (forget())."""
import threading
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from lps_core.errors import NotFound, Unprocessable
from lps_core.outlets.models import Outlet
from lps_core.plugins.models import SCOPES, PluginSwitch
from lps_core.timeutil import utcnow
from lps_core.validation import validate


@dataclass(frozen=True)
class SwitchState:
    enabled: bool
    settings: object  # an instance of the component's settings_schema, or None
    source: str  # where `enabled` came from: outlet, property, programme or default


@dataclass(frozen=True)
class _Snapshot:
    rows: dict  # (kind, name, scope, scope_id) -> (enabled, settings)
    property_of: dict  # outlet id -> property id


class SwitchBook:
    def __init__(self, plugins, cache_seconds=5.0):
        self.plugins = plugins
        self.cache_seconds = cache_seconds
        self._cached = (0.0, None)
        self._lock = threading.Lock()

    def forget(self):
        with self._lock:
            self._cached = (0.0, None)

    def state(self, db, kind, name, outlet_id) -> SwitchState:
        """The component's switch at `outlet_id` (None: the programme as a whole)."""
        component = self.plugins.component(kind, name)
        if component is None:
            return SwitchState(False, None, "not installed")
        snapshot = self._snapshot(db)
        scopes = [("programme", 0)]
        if outlet_id is not None:
            scopes[:0] = [("outlet", outlet_id), ("property", snapshot.property_of.get(outlet_id, -1))]
        enabled, source, settings = component.from_core, "default", None
        for scope, scope_id in reversed(scopes):  # widest first: narrower rows override
            row = snapshot.rows.get((kind, name, scope, scope_id))
            if row is None:
                continue
            if row[0] is not None:
                enabled, source = row[0], scope
            if row[1] is not None:
                settings = row[1]
        return SwitchState(enabled, _settings_of(component.obj, settings), source)

    def require(self, db, kind, name, outlet_id, *, field, outlet_code=None, what=None) -> SwitchState:
        """The state of a component that must be on at the outlet; else a 422 naming `field`."""
        state = self.state(db, kind, name, outlet_id)
        what = what or kind.replace("_", " ")
        if state.source == "not installed":
            raise Unprocessable(f"no plugin provides the {what} {name!r}", {field: f"no such {what}"})
        if not state.enabled:
            where = f"at outlet {outlet_code}" if outlet_code else "in this programme"
            raise Unprocessable(f"the {what} {name!r} is switched off {where}", {field: f"not available {where}"})
        return state

    def _snapshot(self, db) -> _Snapshot:
        now = time.monotonic()
        expires, snapshot = self._cached
        if snapshot is not None and expires > now:
            return snapshot
        rows = {(r.component_kind, r.component_name, r.scope, r.scope_id): (r.enabled, r.settings)
                for r in db.execute(select(PluginSwitch.component_kind, PluginSwitch.component_name,
                                           PluginSwitch.scope, PluginSwitch.scope_id, PluginSwitch.enabled,
                                           PluginSwitch.settings))}
        property_of = dict(db.execute(select(Outlet.id, Outlet.property_id)).all())
        snapshot = _Snapshot(rows, property_of)
        if self.cache_seconds > 0:
            with self._lock:
                self._cached = (now + self.cache_seconds, snapshot)
        return snapshot


def _settings_of(obj, stored):
    schema = getattr(obj, "settings_schema", None)
    if schema is None:
        return None
    return schema.model_validate(stored or {})


def clean_settings(plugins, kind, name, settings) -> dict | None:
    """`settings` checked against the component's schema (400/422 naming the field), as stored."""
    component = plugins.component(kind, name)
    if component is None:
        raise NotFound(f"no plugin provides the {kind.replace('_', ' ')} {name!r}", {"name": "no such component"})
    if settings is None:
        return None
    schema = getattr(component.obj, "settings_schema", None)
    if schema is None:
        if settings:
            raise Unprocessable(f"{name!r} has no settings", {"settings": "this component has no settings"})
        return None
    return validate(schema, settings, message=f"the settings of {name!r} are invalid").model_dump(mode="json")


def set_switch(db, plugins, *, kind, name, scope, scope_id, enabled, settings, actor=None) -> dict:
    """Record a switch (enabled None: inherit) and its settings; returns the row's values before,
    for the audit log. The settings are checked against the component's schema first."""
    if scope not in SCOPES:
        raise Unprocessable(f"scope must be one of {', '.join(SCOPES)}", {"scope": "unknown scope"})
    scope_id = 0 if scope == "programme" else scope_id
    cleaned = clean_settings(plugins, kind, name, settings)
    key = {"component_kind": kind, "component_name": name, "scope": scope, "scope_id": scope_id}
    before = db.execute(select(PluginSwitch.enabled, PluginSwitch.settings).filter_by(**key)).one_or_none()
    values = {"enabled": enabled, "settings": cleaned, "updated_at": utcnow(), "updated_by": actor}
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    db.execute(dialect.insert(PluginSwitch).values(**key, **values).on_conflict_do_update(
        index_elements=list(key), set_=values))
    plugins.switches.forget()
    return {"enabled": before.enabled, "settings": before.settings} if before else {}


def switches_of(db, kind=None) -> list[PluginSwitch]:
    query = select(PluginSwitch).order_by(PluginSwitch.component_kind, PluginSwitch.component_name,
                                          PluginSwitch.scope, PluginSwitch.scope_id)
    if kind is not None:
        query = query.where(PluginSwitch.component_kind == kind)
    return list(db.scalars(query))
