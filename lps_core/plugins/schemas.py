"""Input schemas of the plugins API: the path naming a component or one scope of its switches, and
a switch's change. The OpenAPI document is generated from these models. What needs the database or
the component (an unknown outlet or component, settings its schema refuses, a field that does not
belong to the scope) is checked by lps_core.plugins.overview and switches: 404 or 422."""
from typing import Any, Literal

from lps_core.plugins.manager import SWITCHED_KINDS
from lps_core.plugins.models import SCOPES
from lps_core.validation import Body, Code, Field, Id, Query, Text

COMPONENT_NAME_MAX = 64  # plugin_switches.component_name


class ComponentPath(Query):
    kind: Literal[SWITCHED_KINDS]
    name: Text(COMPONENT_NAME_MAX, description="The component's name", example="cash")


class SwitchPath(ComponentPath):
    scope: Literal[SCOPES]


class SwitchIn(Body):
    """A switch of one scope, replaced: `enabled` true or false, or null to inherit the wider scope's
    (the programme's inherits the component's default). `settings` replaces this scope's settings;
    null removes them (the wider scope's apply); left out, they stay as they are. A property or an
    outlet is named by its code (`property`, `outlet`) or its id (`scope_id`)."""

    enabled: bool | None = Field(description="true: on; false: off; null: as the wider scope says")
    settings: dict[str, Any] | None = Field(None, description="Checked against the component's settings_schema "
                                                              "(GET /api/v1/plugins): what it refuses is 422")
    outlet: Code(32, description="The outlet of an outlet switch") | None = None
    property: Code(32, description="The property of a property switch") | None = None
    scope_id: Id | None = None
