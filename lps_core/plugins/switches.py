"""Which components are on at an outlet, and with what settings.

A tender, promotion kind, exchange partner or channel is on at an outlet by the narrowest switch
that says so: the outlet's own, else its property's, else the programme's, else its default (on for
LPS's own components, off for a third party's until staff switch it on). Its settings come the same
way from the narrowest scope that has settings, else the defaults of its settings schema.

Switches are read on every bill, so they are cached in-process for lps.rules.cache_seconds, like
the earning rules; a change made by this process takes effect at once (forget()).

A settings field is secret when its JSON schema says `writeOnly` (a pydantic `SecretStr`, or
`Field(json_schema_extra={"writeOnly": True})`): it is stored, but never answered or shown again,
the audit log records only that it changed, and a change that leaves it out keeps it."""
import json
import threading
import time
from dataclasses import dataclass
from dataclasses import field as dataclass_field

from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from lps_core.errors import ConfigurationError, LpsError, NotFound, Unprocessable
from lps_core.outlets.models import Outlet
from lps_core.plugins.models import SCOPES, PluginSwitch
from lps_core.timeutil import utcnow
from lps_core.validation import validate_json

# The settings a change leaves out: those of the scope stay as they are.
UNCHANGED = object()
SECRET_SHOWN = "***"
SECRET_CHANGED = "*** (changed)"


@dataclass(frozen=True)
class SwitchState:
    enabled: bool
    settings: object  # an instance of the component's settings_schema, or None
    source: str  # where `enabled` came from: outlet, property, programme or default


@dataclass(frozen=True)
class _Snapshot:
    rows: dict  # (kind, name, scope, scope_id) -> (enabled, settings)
    property_of: dict  # outlet id -> property id
    # (kind, name, outlet id) -> SwitchState: settings are validated once per snapshot, not per bill
    resolved: dict = dataclass_field(default_factory=dict)


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
        key = (kind, name, outlet_id)
        state = snapshot.resolved.get(key)
        if state is None:
            state = snapshot.resolved[key] = _resolve(snapshot, component, outlet_id)
        return state

    def states(self, db, kind, name, outlet_ids) -> dict:
        """{outlet id: SwitchState} of an installed component, read from one snapshot (a page of outlets)."""
        component = self.plugins.component(kind, name)
        snapshot = self._snapshot(db)
        return {outlet_id: _resolve(snapshot, component, outlet_id) for outlet_id in outlet_ids}

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


def _resolve(snapshot, component, outlet_id) -> SwitchState:
    scopes = [("programme", 0)]
    if outlet_id is not None:
        scopes[:0] = [("outlet", outlet_id), ("property", snapshot.property_of.get(outlet_id, -1))]
    enabled, source, settings = component.from_core, "default", None
    for scope, scope_id in reversed(scopes):  # widest first: narrower rows override
        row = snapshot.rows.get((component.kind, component.name, scope, scope_id))
        if row is None:
            continue
        if row[0] is not None:
            enabled, source = row[0], scope
        if row[1] is not None:
            settings = row[1]
    return SwitchState(enabled, _settings_of(component.obj, settings), source)


def settings_schema_of(obj):
    """The component's per-outlet settings model (a contract.OutletSettings subclass), or None."""
    return getattr(obj, "settings_schema", None)


def secret_fields(schema) -> frozenset:
    """The names of the settings fields marked secret (`writeOnly` in their JSON schema)."""
    if schema is None:
        return frozenset()
    properties = schema.model_json_schema().get("properties", {})
    return frozenset(name for name, field in properties.items() if field.get("writeOnly"))


def _settings_of(obj, stored):
    schema = settings_schema_of(obj)
    if schema is None:
        return None
    # Stored as JSON, so read back as JSON: a strict model takes a decimal or a date from its text here.
    return schema.model_validate_json(json.dumps(stored or {}))


def clean_settings(plugins, kind, name, settings, kept=None) -> dict | None:
    """`settings` checked against the component's schema, as stored; `kept` holds the stored secret
    fields, which settings that leave them out keep. What the schema refuses is a 422 naming each
    field as `settings.<field>`: the API's document cannot tell one component's fields."""
    component = plugins.component(kind, name)
    if component is None:
        raise NotFound(f"no plugin provides the {kind.replace('_', ' ')} {name!r}", {"name": "no such component"})
    if settings is None:
        return None
    schema = settings_schema_of(component.obj)
    if schema is None:
        if settings:
            raise Unprocessable(f"{name!r} has no settings", {"settings": "this component has no settings"})
        return None
    secrets = secret_fields(schema)
    given = {**{field: value for field, value in (kept or {}).items() if field in secrets}, **settings}
    try:
        model = validate_json(schema, json.dumps(given).encode(), message=f"the settings of {name!r} are invalid")
    except LpsError as exc:
        fields = {f"settings.{field}" if field != "body" else "settings": message
                  for field, message in exc.fields.items()}
        raise Unprocessable(f"the settings of {name!r} are invalid", fields) from None
    cleaned = model.model_dump(mode="json")
    for field in secrets:
        value = getattr(model, field, None)
        if hasattr(value, "get_secret_value"):  # a SecretStr dumps as stars; the plugin needs the value
            cleaned[field] = value.get_secret_value()
    return cleaned


def shown_settings(schema, settings) -> dict | None:
    """Settings as answered and shown: the secret fields left out."""
    if settings is None:
        return None
    secrets = secret_fields(schema)
    return {field: value for field, value in settings.items() if field not in secrets}


def audited_settings(schema, before, after) -> tuple:
    """(before, after) settings for the audit log: a secret field shows only that it is set, and
    whether it changed."""
    secrets = secret_fields(schema)
    if not secrets:
        return before, after
    old = None if before is None else {
        field: SECRET_SHOWN if field in secrets and value is not None else value for field, value in before.items()}
    new = None if after is None else {
        field: value if field not in secrets or value is None
        else SECRET_SHOWN if (before or {}).get(field) == value else SECRET_CHANGED
        for field, value in after.items()}
    return old, new


@dataclass(frozen=True)
class SwitchChange:
    """A switch's row before and after a change ({} where there is none), as the audit log records it."""

    before: dict
    after: dict

    @property
    def changed(self) -> bool:
        return self.before != self.after


def set_switch(db, plugins, *, kind, name, scope, scope_id, enabled, settings=UNCHANGED, actor=None) -> SwitchChange:
    """Record a switch (enabled None: inherit) and its settings (None: none at this scope; left out:
    as they are). The settings are checked against the component's schema first. A row that says
    nothing (inherit, no settings) is removed. Secret settings are masked in the returned change."""
    if scope not in SCOPES:
        raise Unprocessable(f"scope must be one of {', '.join(SCOPES)}", {"scope": "unknown scope"})
    component = plugins.component(kind, name)
    if component is None:
        raise NotFound(f"no plugin provides the {kind.replace('_', ' ')} {name!r}", {"name": "no such component"})
    scope_id = 0 if scope == "programme" else scope_id
    key = {"component_kind": kind, "component_name": name, "scope": scope, "scope_id": scope_id}
    before = db.execute(select(PluginSwitch.enabled, PluginSwitch.settings).filter_by(**key)).one_or_none()
    stored = before.settings if before is not None else None
    cleaned = stored if settings is UNCHANGED else clean_settings(plugins, kind, name, settings, kept=stored)
    if enabled is None and cleaned is None:
        db.execute(delete(PluginSwitch).filter_by(**key))
    else:
        values = {"enabled": enabled, "settings": cleaned, "updated_at": utcnow(), "updated_by": actor}
        dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
        db.execute(dialect.insert(PluginSwitch).values(**key, **values).on_conflict_do_update(
            index_elements=list(key), set_=values))
    plugins.switches.forget()
    old, new = audited_settings(settings_schema_of(component.obj), stored, cleaned)
    return SwitchChange({"enabled": before.enabled, "settings": old} if before is not None else {},
                        {"enabled": enabled, "settings": new} if enabled is not None or cleaned is not None else {})


def switches_of(db, kind=None, name=None) -> list[PluginSwitch]:
    query = select(PluginSwitch).order_by(PluginSwitch.component_kind, PluginSwitch.component_name,
                                          PluginSwitch.scope, PluginSwitch.scope_id)
    if kind is not None:
        query = query.where(PluginSwitch.component_kind == kind)
    if name is not None:
        query = query.where(PluginSwitch.component_name == name)
    return list(db.scalars(query))


def check_stored_settings(db, plugins):
    """Stop start-up when a switch's stored settings no longer fit its component's schema (a plugin
    upgraded with new required or narrower settings), naming the component, the scope and the field,
    so that a till never meets it mid-transaction. Switches of components not installed are left:
    an uninstalled plugin's components are off wherever they were switched on."""
    problems = []
    for row in switches_of(db):
        component = plugins.component(row.component_kind, row.component_name)
        if component is None or row.settings is None or settings_schema_of(component.obj) is None:
            continue
        try:
            _settings_of(component.obj, row.settings)
        except ValidationError as exc:
            error = exc.errors()[0]
            field = ".".join(str(part) for part in error["loc"]) or "settings"
            where = row.scope if row.scope == "programme" else f"{row.scope} {row.scope_id}"
            problems.append(f"plugin {component.plugin!r}: {row.component_kind} {row.component_name!r} at {where}: "
                            f"settings.{field}: {error['msg']}")
    if problems:
        raise ConfigurationError("; ".join(problems) + " (start once with lps.check_outlets_on_start = false "
                                 "and correct them on the Plugins configuration page or through the plugins API)")
